/*
 * crashpoint.h: named instants where a test may cut the power.
 *
 * crashpoint("agent.stored") kills the process with SIGKILL, at once and
 * with no clean-up, when the environment variable SIRA_CRASH_AT names that
 * point; it does nothing otherwise. Tests use it to die exactly between two
 * durable steps (docs/OPERATIONS.md lists the points). Everything written
 * and fsync'd before the point stays; nothing after it happens.
 */
#ifndef SIRA_CRASHPOINT_H
#define SIRA_CRASHPOINT_H

void crashpoint(const char *name);

#endif
