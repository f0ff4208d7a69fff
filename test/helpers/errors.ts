// The AppError a promise rejects with, for tests that check more than tap's t.rejects pattern can.
import { AppError } from '../../src/errors.js'

export async function rejection(p: Promise<unknown>): Promise<AppError> {
  try {
    await p
  } catch (e) {
    if (e instanceof AppError) return e
    throw e
  }
  throw new Error('expected the call to fail')
}
