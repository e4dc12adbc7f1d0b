// Package dsn composes RFC 3464 delivery status notifications: the bounce
// (or delay warning) the queue sends to the original envelope sender when
// mail that already got "250" later fails or is held up.
//
// A notification is one multipart/report; report-type=delivery-status
// message with three parts:
//
//  1. text/plain for people, in three sections: what happened, "For the
//     sender" (who can fix it and how) and "For the email admin" (the
//     technical details), matching the /ndr/<code> help pages;
//  2. message/delivery-status for programs: per-message fields, then one
//     block of per-recipient fields each;
//  3. the original message (message/rfc822, RET=FULL) or only its header
//     block (text/rfc822-headers), so the sender can see which message it was.
//
// Everything the package writes is sanitised: the remote server's reply, the
// addresses and the original message are untrusted, so no value can inject a
// header field or a MIME boundary, every line ends in CRLF and no line is
// longer than 998 octets. The output never contains a bare CR or LF, so it
// cannot carry an SMTP smuggling sequence to the next hop.
//
// The caller sends the result with an empty reverse-path (MAIL FROM:<>) and
// never composes a notification about a message that itself had the null
// sender (see IsNullSender): a bounce must never be bounced.
package dsn
