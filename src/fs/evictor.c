// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The evictor thread: once a second, when more directory nodes are held
 * than max_dirs, it asks the kernel to forget the coldest of them
 * (evict.c picks them). It holds no lock while it talks to the kernel,
 * which may wait for requests the other threads are serving.
 */
#include "daemon.h"

#include "log.h"
#include "manage.h"

#include <errno.h>
#include <time.h>

static bool wait_a_second(struct cow_daemon *d)
{
	struct timespec until;
	bool stop;

	clock_gettime(CLOCK_REALTIME, &until);
	until.tv_sec += 1;
	pthread_mutex_lock(&d->evict_lock);
	while (!d->evict_stop &&
	       pthread_cond_timedwait(&d->evict_cond, &d->evict_lock, &until) !=
		       ETIMEDOUT)
		;
	stop = d->evict_stop;
	pthread_mutex_unlock(&d->evict_lock);
	return !stop;
}

static void *evictor_main(void *arg)
{
	struct cow_daemon *d = arg;

	while (wait_a_second(d)) {
		struct cow_inval inv = {0};

		if (!cow_evict_needed(&d->fs))
			continue;
		if (cow_evict_pick(&d->fs, &inv) < 0)
			cow_warn("cannot pick directories to forget: out of "
				 "memory");
		cow_dbg("evicting %zu directories", inv.nents);
		cow_tell_kernel(d, &inv);
	}
	return NULL;
}

int cow_evictor_start(struct cow_daemon *d)
{
	pthread_mutex_init(&d->evict_lock, NULL);
	pthread_cond_init(&d->evict_cond, NULL);
	if (!d->fs.max_dirs)
		return 0;
	d->evict_stop = false;
	if (pthread_create(&d->evict_thread, NULL, evictor_main, d))
		return -1;
	d->evicting = true;
	return 0;
}

void cow_evictor_stop(struct cow_daemon *d)
{
	if (d->evicting) {
		pthread_mutex_lock(&d->evict_lock);
		d->evict_stop = true;
		pthread_cond_signal(&d->evict_cond);
		pthread_mutex_unlock(&d->evict_lock);
		pthread_join(d->evict_thread, NULL);
		d->evicting = false;
	}
}
