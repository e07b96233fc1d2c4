/* The subcommands of ulpgate.  Each is `int ug_cmd_<name>(int argc, char **argv)` in
 * reports/cmd_<name>.c: argv[0] is the command name, the rest its arguments; it returns
 * the exit status (cli.h), normally through ug_cli_finish().
 *
 * Adding a subcommand: write reports/cmd_<name>.c, add its prototype below and its one
 * line to the table in reports/ulpgate.c (reports/CMakeLists.txt picks up every .c).
 */
#ifndef ULPGATE_REPORTS_CMDS_H
#define ULPGATE_REPORTS_CMDS_H

typedef int (*ug_cmd_fn)(int argc, char **argv);

int ug_cmd_list(int argc, char **argv);  /* cmd_list.c */
int ug_cmd_run(int argc, char **argv);   /* cmd_run.c  */
int ug_cmd_exact(int argc, char **argv); /* cmd_run.c  */
int ug_cmd_check(int argc, char **argv); /* cmd_check.c */
int ug_cmd_bench(int argc, char **argv); /* cmd_bench.c */
int ug_cmd_boundary(int argc, char **argv); /* cmd_boundary.c */
int ug_cmd_gate(int argc, char **argv);     /* cmd_gate.c */
int ug_cmd_report(int argc, char **argv);   /* cmd_report.c */
int ug_cmd_vectors(int argc, char **argv);  /* cmd_vectors.c */
int ug_cmd_merge(int argc, char **argv);    /* cmd_merge.c */

#endif
