/*
 * usage.h: printing a command table's usage text, for the three programs'
 * --help. Each program keeps its own table of commands; this only lays
 * out their multi-line usage strings.
 */
#ifndef SIRA_USAGE_H
#define SIRA_USAGE_H

#include <stdio.h>

/* Print text and a newline, its later lines starting at column indent. */
void usage_lines(FILE *f, const char *text, int indent);

#endif
