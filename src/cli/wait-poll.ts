/**
 * How often a command run with `--wait` reads its batch in Redis: one small read, so often enough
 * that the command ends within a tenth of a second of its batch (a script, or a test, waits no
 * longer than the work) without a load Redis would notice. Progress lines have their own pace.
 */
export const WAIT_POLL_MS = 100;
