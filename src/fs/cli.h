/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Management subcommands of the cowfs command (status, ...). */
#ifndef COW_CLI_H
#define COW_CLI_H

#include <stdbool.h>

/* Virtual xattr of a view's root naming its store: "upper=..\nmeta=..\n". */
#define COW_STORE_XATTR "user.cowfs.store"

/* A STORE directory, or the store behind a mounted view. */
struct cow_cli_target {
	const char *upper, *meta, *base;
	const char *view; /* "" when not mounted */
	bool userxattr;
	void *priv;
};

int cow_cli_target(const char *arg, struct cow_cli_target *t);
void cow_cli_target_free(struct cow_cli_target *t);

/* A PATH argument: relative to the view's root, or under the mount. */
const char *cow_cli_rel_path(const struct cow_cli_target *t, const char *p);

int cow_cmd_status(int argc, char **argv);
/* cowfs commit | discard | reset (cmd_manage.c) */
int cow_cmd_manage(const char *cmd, int argc, char **argv);
int cow_cmd_diff(int argc, char **argv);

/* Opens an unmounted store in this process (locked); prints why not. */
struct cow_fs;
int cow_cli_open_store(const struct cow_cli_target *t, struct cow_fs *fs);
void cow_cli_close_store(struct cow_fs *fs);

#endif
