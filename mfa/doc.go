// Package mfa is the second factor of Tollgate's admin sign-in: TOTP
// (RFC 6238) codes with replay protection, and one-time recovery codes.
//
// It stores nothing. The caller keeps, in its admin record, the TOTP secret,
// the last accepted time step and the recovery-code hashes, and passes them
// in. Because a code must work only once, the caller must also write the new
// last step (or delete a used recovery-code hash) atomically with the check,
// e.g. UPDATE ... SET last_step = $new WHERE id = $id AND last_step = $old,
// otherwise two sign-ins racing with one code could both succeed.
package mfa
