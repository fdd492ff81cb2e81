// web.test.mjs: Sira's web interface in Debian's chromium, driven by
// playwright-core, against the real agents test_web.sh started. Each
// check() asserts something that can fail; the last line says how many
// passed. Screenshots of each screen go to $SCREENS.
import { chromium } from 'playwright-core';
import http from 'node:http';
import net from 'node:net';
import fs from 'node:fs';
import path from 'node:path';

const env = process.env;
const SCREENS = env.SCREENS;
let checks = 0;

function check(what, ok, detail) {
  checks++;
  if (!ok) throw new Error(`FAIL: ${what}${detail ? ': ' + detail : ''}`);
  console.log(`ok ${checks} ${what}`);
}

async function shot(page, name) {
  await page.screenshot({ path: path.join(SCREENS, `${name}.png`), fullPage: true });
}

async function login(browser, base, user, pass) {
  const ctx = await browser.newContext({ viewport: { width: 1366, height: 768 },
    acceptDownloads: true, locale: 'fr-FR' });
  const page = await ctx.newPage();
  await page.goto(base + '/');
  await page.fill('#login', user);
  await page.fill('#password', pass);
  await page.click('button:has-text("Se connecter")');
  await page.waitForURL(base + '/');
  return page;
}

// Reload url until the page shows text (an agency's daemon must carry the
// message first), at most `seconds`.
async function until(page, url, text, seconds = 90) {
  const end = Date.now() + seconds * 1000;
  for (;;) {
    await page.goto(url);
    if ((await page.content()).includes(text)) return true;
    if (Date.now() > end) return false;
    await page.waitForTimeout(1000);
  }
}

// A raw request with chosen headers (node's http, not the browser).
function raw(base, { method = 'GET', p = '/', headers = {}, body = '' }) {
  const u = new URL(base);
  return new Promise((resolve, reject) => {
    const req = http.request({ host: u.hostname, port: u.port, path: p, method,
      headers: { 'Content-Length': Buffer.byteLength(body), ...headers } }, (res) => {
      let data = '';
      res.on('data', (c) => { data += c; });
      res.on('end', () => resolve({ status: res.statusCode, headers: res.headers, body: data }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

const REF = 'WEB-2026-0007';

async function fillReferral(page) {
  await page.fill('#to', env.NGO_ID);
  await page.fill('[name="case_ref"]', REF);
  await page.fill('[name="victim_ref"]', 'V-WEB-0001');
  await page.fill('[name="age.years"]', '15');
  await page.selectOption('[name="sex"]', 'female');
  await page.fill('[name="nationality"]', 'ML');
  await page.fill('[name="languages"]', 'bm, fr');
  await page.check('input[name="exploitation"][value="forced_begging"]');
  await page.check('input[name="needs"][value="shelter"]');
  await page.check('input[name="needs"][value="medical"]');
  await page.fill('[name="identification.place"]', 'Ségou, gare routière');
  await page.fill('[name="identification.date"]', '2026-11-20');
  await page.selectOption('[name="risk"]', 'high');
  await page.selectOption('[name="urgency"]', 'immediate');
  await page.check('[name="consent.given"]');
  await page.selectOption('[name="consent.scope"]', 'services_and_justice');
  await page.fill('[name="consent.recorded_by"]', 'Assistante sociale, Ségou');
  await page.check('[name="consent.guardian_consent"]');
  await page.fill('[name="identifying.full_name"]', 'Personne Fictive Webtest');
  await page.fill('[name="notes"]', 'Parle bambara.');
}

async function policeRefers(browser) {
  const page = await login(browser, env.POLICE, 'awa', 'mot-de-passe-awa-1');
  check('the inbox is in French', (await page.getAttribute('html', 'lang')) === 'fr');
  check('the inbox shows its counts', await page.isVisible('text=signalements à traiter'));
  await shot(page, 'inbox-empty');
  await page.click('a:has-text("Nouveau signalement")');
  await fillReferral(page);
  await page.click('button:has-text("Envoyer le signalement")');
  // consent given, but the date it was recorded left out: refused, in French
  const err = page.locator('#err-consent\\.date');
  check('a form error is shown next to its field', await err.isVisible());
  const msg = await err.innerText();
  check('the form error is in French', /obligatoire/.test(msg), msg);
  check('the field is marked invalid',
    (await page.getAttribute('[name="consent.date"]', 'aria-invalid')) === 'true');
  check('what was typed is kept', (await page.inputValue('[name="victim_ref"]')) === 'V-WEB-0001');
  await shot(page, 'referral-form-error');
  await page.fill('[name="consent.date"]', '2026-11-20');
  await page.click('button:has-text("Envoyer le signalement")');
  await page.waitForURL(/\/case\?ref=/);
  check('the referral is queued and the case page opens',
    await page.isVisible('text=Signalement en file'));
  return page;
}

async function ngoAccepts(browser) {
  const page = await login(browser, env.NGO, 'fanta', 'mot-de-passe-fanta-2');
  check('the referral reaches the shelter\'s inbox',
    await until(page, env.NGO + '/', REF));
  check('the inbox counts one referral to answer',
    (await page.locator('.counts li').first().innerText()).startsWith('1'));
  await shot(page, 'inbox');
  await page.click(`a:has-text("${REF}")`);
  check('the case shows the referral\'s fields in French',
    await page.isVisible('text=mendicité forcée'));
  check('the identifying details arrived (consent covers the shelter)',
    await page.isVisible('text=Personne Fictive Webtest'));
  const dates = await page.locator('dd').allInnerTexts();
  check('the referral\'s dates read as people write them (20/11/2026)',
    dates.includes('20/11/2026') && !dates.some((d) => /\d{4}-\d\d-\d\d/.test(d)),
    dates.join(' | '));
  await shot(page, 'case-to-answer');
  await page.click('button:has-text("Accepter le signalement")');
  await page.waitForURL(/ok=accept/);
  check('the acceptance is confirmed', await page.isVisible('text=Accepté'));
  check('only the steps the state allows remain: no second accept',
    !(await page.isVisible('button:has-text("Accepter le signalement")')));
  return page;
}

async function policeSeesAnswer(page) {
  const url = env.POLICE + '/case?ref=' + REF;
  check('the police see the answer', await until(page, url, 'accepté'));
  check('and the signed receipt of their referral',
    await until(page, url, 'reçu (accusé signé)'));
  await shot(page, 'case-answered');
  await page.goto(env.POLICE + '/case/print?ref=' + REF);
  check('the printable sheet names the person who printed it',
    await page.isVisible('text=Awa Traoré'));
  await page.emulateMedia({ media: 'print' });
  check('the print view hides the menu', !(await page.isVisible('nav')));
  await shot(page, 'print-sheet');
  await page.emulateMedia({ media: 'screen' });
  const [dl] = await Promise.all([page.waitForEvent('download'),
    page.goto(env.POLICE + '/case/export?ref=' + REF).catch(() => null)]);
  const file = await dl.path();
  check('the evidence export downloads a bundle',
    fs.readFileSync(file).length > 1000 && dl.suggestedFilename() === `${REF}.sirabundle`);
}

async function transferWithDocument(ngo, browser) {
  await ngo.goto(env.NGO + '/case?ref=' + REF);
  await ngo.fill('#to-t', env.SOCIAL_ID);
  await ngo.fill('#note-t', 'Suivi par les services sociaux de Ségou.');
  await ngo.setInputFiles('#attach-t', env.DOC);
  await ngo.click('button:has-text("Transférer le dossier")');
  await ngo.waitForURL(/ok=transfer/);
  check('the transfer is queued with its document',
    await ngo.isVisible('text=Transfert en file'));
  check('the document is listed with the transfer, once sealed',
    await until(ngo, env.NGO + '/case?ref=' + REF, 'rapport-médical.txt', 60));
  const soc = await login(browser, env.SOCIAL, 'oumar', 'mot-de-passe-oumar-3');
  const url = env.SOCIAL + '/case?ref=' + REF;
  check('the social services receive the case', await until(soc, url, 'reçu par transfert'));
  check('with its document, downloaded and verified',
    await until(soc, url, 'href="/documents/', 120));
  const [dl] = await Promise.all([soc.waitForEvent('download'),
    soc.click('a:has-text("rapport-médical.txt")')]);
  const got = fs.readFileSync(await dl.path());
  check('the document arrives byte for byte', got.equals(fs.readFileSync(env.DOC)));
  check('and keeps its accented name (filename*=UTF-8)',
    dl.suggestedFilename() === 'rapport-médical.txt', dl.suggestedFilename());
  await shot(soc, 'case-transferred');
  return soc;
}

async function fileRequest(browser, soc) {
  const jus = await login(browser, env.JUSTICE, 'issa', 'mot-de-passe-issa-4');
  await jus.goto(env.JUSTICE + '/case?ref=' + REF);
  check('a case the prosecutor does not know is not found',
    (await jus.content()).includes('aucun dossier'));
  // a prosecutor asks for the file of a case it does not hold yet
  await jus.click('a:has-text("Demander un dossier")');
  await jus.fill('#ref-q', REF);
  await jus.fill('#from-q', env.SOCIAL_ID);
  await jus.fill('#basis-q', 'Art. 12 de la loi n°2012-023');
  await jus.fill('#purpose-q', 'Instruction');
  await shot(jus, 'file-request-form');
  await jus.click('button:has-text("Envoyer la demande")');
  await jus.waitForURL(/ok=request/);
  check('the prosecutor\'s request is queued', await jus.isVisible('text=Demande en file'));
  const url = env.SOCIAL + '/case?ref=' + REF;
  check('the holder sees the request with its legal basis',
    await until(soc, url, 'loi n°2012-023'));
  await shot(soc, 'file-request');
  await soc.click('button:has-text("Accorder")');
  await soc.waitForURL(/ok=grant/);
  check('the grant is confirmed', await soc.isVisible('text=Dossier en file'));
  check('the prosecutor receives the file',
    await until(jus, env.JUSTICE + '/case?ref=' + REF, 'accordée'));
  check('with the referral inside it', await jus.isVisible('text=mendicité forcée'));
  return jus;
}

// The CSRF token of the current page's forms.
async function csrfOf(page, base) {
  if (!page.url().startsWith(base)) await page.goto(base + '/');
  return page.getAttribute('input[name="csrf"] >> nth=0', 'value');
}

// A multipart POST that announces 400 KiB, sends 100 KiB of a document,
// and drops the connection, as a 2G link does.
async function truncatedUpload(page, base) {
  const u = new URL(base);
  const cookie = (await page.context().cookies(base))
    .map((c) => `${c.name}=${c.value}`).join('; ');
  const csrf = await csrfOf(page, base);
  const b = 'sira-test-boundary';
  const head = `--${b}\r\nContent-Disposition: form-data; name="csrf"\r\n\r\n${csrf}\r\n` +
    `--${b}\r\nContent-Disposition: form-data; name="attach"; filename="coupé.pdf"\r\n` +
    'Content-Type: application/pdf\r\n\r\n';
  await new Promise((resolve) => {
    const sock = net.connect(Number(u.port), u.hostname, () => {
      sock.write(`POST /refer HTTP/1.1\r\nHost: ${u.host}\r\nOrigin: ${base}\r\n` +
        `Cookie: ${cookie}\r\nContent-Type: multipart/form-data; boundary=${b}\r\n` +
        `Content-Length: ${400 * 1024}\r\n\r\n` + head);
      sock.write(Buffer.alloc(100 * 1024, 9), () => setTimeout(() => { sock.destroy(); resolve(); }, 300));
    });
    sock.on('error', resolve);
  });
}

async function refusals(browser, police) {
  // CSRF: a form without the session's token
  let r = await police.request.post(env.POLICE + '/case/revoke', {
    headers: { Origin: env.POLICE }, form: { csrf: 'x'.repeat(64), ref: REF, reason: 'x' } });
  check('a form with a wrong CSRF token is refused', r.status() === 403);
  r = await police.request.post(env.POLICE + '/lang', {
    headers: { Origin: 'http://evil.example' },
    form: { csrf: await csrfOf(police, env.POLICE), lang: 'en' } });
  check('a form from another origin is refused', r.status() === 403);
  r = await police.request.post(env.POLICE + '/refer', {
    headers: { Origin: env.POLICE },
    form: { csrf: await csrfOf(police, env.POLICE), notes: 'x'.repeat(70 * 1024) } });
  check('a form over 64 KiB is refused, in French',
    r.status() === 400 && (await r.text()).includes('Le formulaire est trop long'));
  // a document over the agency's limit (1 MiB for the police here)
  r = await police.request.post(env.POLICE + '/refer', {
    headers: { Origin: env.POLICE },
    multipart: { csrf: await csrfOf(police, env.POLICE), to: env.NGO_ID,
      attach: { name: 'gros.pdf', mimeType: 'application/pdf',
        buffer: Buffer.alloc(1536 * 1024, 7) } } });
  check('a document over the agency\'s limit is refused, in French',
    r.status() === 400 && (await r.text()).includes('Un document dépasse la taille'));
  // an upload cut in the middle (the link drops): the server lives on,
  // and the half document is removed (the shell checks HOME/tmp)
  await truncatedUpload(police, env.POLICE);
  r = await raw(env.POLICE, { p: '/login' });
  check('an upload cut in the middle leaves the server answering', r.status === 200);
  r = await raw(env.POLICE, { headers: { Host: 'evil.example:80' } });
  check('a foreign Host header is refused (DNS rebinding)', r.status === 421);
  r = await raw(env.POLICE, { p: '/admin/users' });
  check('without a session every page sends to the login', r.status === 303 &&
    r.headers.location === '/login');
  // a caseworker on an administrator's page
  await police.goto(env.POLICE + '/admin/users');
  check('a caseworker cannot open the accounts page',
    (await police.content()).includes('réservée aux administrateurs'));
  // five wrong passwords lock the account, even for the right one after
  const ctx = await browser.newContext({ locale: 'fr-FR' });
  const p = await ctx.newPage();
  for (let i = 0; i < 5; i++) {
    await p.goto(env.POLICE + '/login');
    await p.fill('#login', 'malick');
    await p.fill('#password', 'mauvais-mot-de-passe');
    await p.click('button:has-text("Se connecter")');
  }
  check('a wrong password is told plainly', await p.isVisible('text=Identifiant ou mot de passe incorrect'));
  await p.fill('#login', 'malick');
  await p.fill('#password', 'mot-de-passe-malick-6');
  await p.click('button:has-text("Se connecter")');
  check('after five wrong passwords the account is locked',
    await p.isVisible('text=verrouillé'));
  check('and no session was opened', p.url().endsWith('/login'));
  await shot(p, 'login-locked');
  await ctx.close();
}

async function admin(browser) {
  const page = await login(browser, env.POLICE, 'chef', 'mot-de-passe-chef-5');
  await page.goto(env.POLICE + '/admin/users');
  check('the administrator sees the accounts', await page.isVisible('text=Malick Coulibaly'));
  await page.fill('#login', 'binta');
  await page.fill('#name', 'Binta Sow');
  await page.fill('#password', 'court');
  await page.evaluate(() => document.querySelector('#password').removeAttribute('minlength'));
  await page.click('button:has-text("Créer le compte")');
  check('a short password is refused', await page.isVisible('p.error'));
  await page.fill('#login', 'binta');
  await page.fill('#name', 'Binta Sow');
  await page.fill('#password', 'mot-de-passe-binta-7');
  await page.click('button:has-text("Créer le compte")');
  await page.waitForURL(/ok=user/);
  check('an account is created from the web', await page.isVisible('text=Binta Sow'));
  // malick was locked by five wrong passwords: a new password unlocks him
  await page.click('details:has(#pw-malick) summary');
  await page.fill('#pw-malick', 'nouveau-mot-de-passe-malick');
  await page.click('form:has(#pw-malick) button:has-text("Débloquer")');
  await page.waitForURL(/ok=user/);
  const m = await login(browser, env.POLICE, 'malick', 'nouveau-mot-de-passe-malick');
  check('an administrator unlocks an account with a new password',
    await m.isVisible('text=Boîte de réception'));
  await m.context().close();
  await shot(page, 'accounts');
  await page.goto(env.POLICE + '/status');
  check('the status page says the agent works',
    await page.isVisible('text=Tout fonctionne'));
  await shot(page, 'status');
  await page.goto(env.POLICE + '/directory');
  check('the directory lists the shelter', await page.isVisible(`text=${env.NGO_ID}`));
  await shot(page, 'directory');
  await page.click('button:has-text("English")');
  check('English is available', await page.isVisible('text=Inbox'));
  await page.click('button:has-text("Français")');
  check('and back to French', await page.isVisible('text=Boîte de réception'));
}

// PHASE=offline: the shell has stopped the broker. The police still work:
// the status page says why nothing leaves, a referral is queued.
async function offline(browser) {
  const page = await login(browser, env.POLICE, 'awa', 'mot-de-passe-awa-1');
  await page.goto(env.POLICE + '/status');
  check('with the broker down, the status page says so in plain words',
    await page.isVisible('text=Le serveur central est injoignable'));
  await shot(page, 'status-offline');
  await page.goto(env.POLICE + '/refer');
  await fillReferral(page);
  await page.fill('[name="case_ref"]', REF_OFFLINE);
  await page.fill('[name="consent.date"]', '2026-11-20');
  await page.click('button:has-text("Envoyer le signalement")');
  await page.waitForURL(/\/case\?ref=/);
  check('a referral filed while the broker is down is queued',
    await page.isVisible('text=Signalement en file'));
}

// The whole scenario, with the broker up.
async function online(browser) {
  const login0 = await browser.newPage({ viewport: { width: 1366, height: 768 } });
  await login0.goto(env.POLICE + '/login');
  check('the login page is French first', await login0.isVisible('text=Se connecter'));
  await shot(login0, 'login');
  const police = await policeRefers(browser);
  await shot(police, 'case-sent');
  const ngo = await ngoAccepts(browser);
  await policeSeesAnswer(police);
  const soc = await transferWithDocument(ngo, browser);
  await fileRequest(browser, soc);
  await refusals(browser, police);
  await admin(browser);
}

const REF_OFFLINE = 'WEB-2026-0008';
const browser = await chromium.launch({ executablePath: env.CHROMIUM, headless: true,
  args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage'] });
try {
  await (env.PHASE === 'offline' ? offline(browser) : online(browser));
  console.log(`web: all ${checks} checks passed`);
} catch (e) {
  console.error(e.stack || String(e));
  process.exitCode = 1;
} finally {
  await browser.close();
}
