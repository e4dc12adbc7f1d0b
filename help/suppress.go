package help

// The page of the suppression list (package suppress).
func init() {
	add(Page{Code: "5.1.92", Who: TenantAdmin,
		Reply: "550 5.1.92 Recipient is on the suppression list (an earlier hard bounce or complaint)",
		Title: "Recipient suppressed: an earlier message to it hard-bounced or was reported",
		Cause: "Tollgate keeps a suppression list for each tenant: a recipient goes on it when a receiving server said the address does not exist or cannot receive mail (a hard bounce), or when the recipient reported a message as spam (a complaint through a feedback loop). " +
			"Operators keep a global list too. Mail to a listed recipient is refused before it is sent, because repeated mail to dead addresses and to people who complained is what gets the shared sending addresses blocked.",
		Sender: "Check the address: it may be misspelled, or the mailbox may have been closed. If the recipient asked not to get your mail, do not send it again. If you are sure the address works now, " + PassOn,
		Admin: "1) See why it was listed: tollgate admin suppressions --tenant ID --search ADDRESS shows the reason, the remote server's reply and the date (the trace of the earlier message has the full reply). " +
			"2) Remove it only when the address is known to work again, or the recipient asked for your mail again: tollgate admin suppression-remove --tenant ID ADDRESS. " +
			"3) An address on the operators' global list (the figures say list=global) can only be removed by an operator. " +
			"4) If your sending software treats a refused recipient as a failed send, set the tenant's suppression_action to drop (tollgate admin policy set TENANT suppression_action=drop): listed recipients are then accepted and left out of the message, and the trace and the delivery events say so."})
}
