// The only two ways the store's code touches the aic_* tables.
//
// withUser(): a transaction that switches to the role aic_app (SET LOCAL ROLE) and sets
// aic.user_id for that transaction only (set_config(..., true)). The row-level security policies
// of migration 002 then restrict every statement in it to that user's rows, whatever its WHERE
// clause says: a bug that forgets a WHERE, or passes another user's id, still reads and changes
// nothing of anyone else, and an INSERT of a row for another user fails WITH CHECK. Both settings
// end with the transaction, so a pooled connection goes back to the pool as it came.
//
// withSystem(): the same for the role aic_system, whose policies see every row: the service's own
// background work only (the batched writer, the retention sweep, model performance, raising
// alerts), never a request made for a user.
//
// The role switch is what makes the policies hold: the tables' owner is subject to them as well
// (FORCE ROW LEVEL SECURITY) and matches none (each policy also requires current_user, the role
// in effect, to be its own role, so the owner's membership in both roles hands it nothing), but a
// superuser bypasses row-level security entirely, and PGlite always runs as one. The callback is the service's own code: SQL that it would let a
// user inject could RESET ROLE; nothing here builds SQL from user input.
import type { Db, Tx } from './db.js';

export const APP_ROLE = 'aic_app';
export const SYSTEM_ROLE = 'aic_system';

/** User ids: what the JWT's subject gives; stored as text (CHECK: 1 to 256 characters). */
export function checkUserId(userId: unknown, what = 'userId'): string {
  if (typeof userId !== 'string' || userId.length === 0 || userId.length > 256 || userId.includes('\0')) {
    throw new TypeError(`${what} must be a non-empty string of at most 256 characters (no NUL), got ${JSON.stringify(userId)}`);
  }
  return userId;
}

export function withUser<T>(db: Db, userId: string, fn: (tx: Tx) => Promise<T>): Promise<T> {
  const id = checkUserId(userId);
  return db.transaction(async (tx) => {
    await tx.query(`SET LOCAL ROLE ${APP_ROLE}`);
    await tx.query(`SELECT set_config('aic.user_id', $1, true)`, [id]);
    return fn(tx);
  });
}

export function withSystem<T>(db: Db, fn: (tx: Tx) => Promise<T>): Promise<T> {
  return db.transaction(async (tx) => {
    await tx.query(`SET LOCAL ROLE ${SYSTEM_ROLE}`);
    await tx.query(`SELECT set_config('aic.user_id', '', true)`);
    return fn(tx);
  });
}
