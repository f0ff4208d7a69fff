// Read-only by default: the IDE runs a statement that may change a cloud account (INSERT, UPDATE,
// DELETE, REPLACE, EXEC, and anything not known to be read-only) only with ALLOW_MUTATIONS=true, for
// an admin, after a confirmation naming the statement kind and the profile. Classification is the
// statement tokenizer's (src/stackql/statements.ts): comments, CTEs, casing and semicolons are its job.
import { isAppError } from '../errors.js'
import { assertReadOnlyQuery, isReadOnlyKind, splitStatements, statementKind } from '../stackql/statements.js'
import { hasRole, type Role } from './roles.js'

export interface StatementClass {
  /** The kind of the (first non-read-only, else first) statement: SELECT, INSERT, ..., OTHER. */
  kind: string
  readOnly: boolean
  /** Why it is not read-only, in the user's words. */
  reason?: string
  /**
   * The tokenizer refused the input (an unterminated string, a `/*!` comment, ...): it cannot run
   * at all — the query service refuses it with the tokenizer's message — so no rule applies.
   */
  unreadable?: true
}

/** Classifies IDE input conservatively: any statement not known read-only makes all of it a mutation. */
export function classifyStatement(text: string): StatementClass {
  let statements: string[]
  try {
    statements = splitStatements(text)
  } catch (e) {
    if (!isAppError(e)) throw e
    return { kind: 'OTHER', readOnly: false, reason: e.message, unreadable: true }
  }
  if (statements.length === 0) return { kind: 'OTHER', readOnly: true }
  for (const statement of statements) {
    const kind = statementKind(statement)
    if (!isReadOnlyKind(kind)) {
      return {
        kind,
        readOnly: false,
        reason: `it is ${kind === 'OTHER' ? 'not a statement known to be read-only' : `an ${kind} statement`}`,
      }
    }
    if (kind === 'SELECT') {
      // A SELECT with a changing statement's word inside (SELECT ... INTO, a nested EXEC) is not
      // known to be read-only either: the schedule rule, which already says which word.
      try {
        assertReadOnlyQuery(statement)
      } catch (e) {
        if (!isAppError(e)) throw e
        return { kind: 'OTHER', readOnly: false, reason: e.message }
      }
    }
  }
  return { kind: statementKind(statements[0]!), readOnly: true }
}

export type MutationDecision =
  | { run: true }
  | { run: false; confirm: true; kind: string }
  | { run: false; confirm: false; message: string; neededRole: Role }

/**
 * Whether a statement may run now. `confirmed` is the kind the user confirmed in the dialog: it must
 * match, so a confirmation for one statement cannot be replayed for another kind.
 */
export function decideStatement(
  cls: StatementClass,
  role: Role,
  allowMutations: boolean,
  confirmed: string | undefined,
): MutationDecision {
  if (cls.readOnly) return { run: true }
  const what = `This statement may change cloud resources (${cls.reason ?? cls.kind})`
  if (!allowMutations) {
    return {
      run: false,
      confirm: false,
      neededRole: 'admin',
      message: `${what}. The IDE runs read-only statements (SELECT, SHOW, DESCRIBE, REGISTRY) only: an administrator can allow changing statements for admins with ALLOW_MUTATIONS=true.`,
    }
  }
  if (!hasRole(role, 'admin')) {
    return {
      run: false,
      confirm: false,
      neededRole: 'admin',
      message: `${what}. Only the admin role may run changing statements; your role is ${role}.`,
    }
  }
  if (confirmed !== cls.kind) return { run: false, confirm: true, kind: cls.kind }
  return { run: true }
}
