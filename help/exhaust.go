package help

func init() {
	add(Page{Code: "4.3.1", Who: Retry,
		Reply:  "452 4.3.1 Insufficient system storage; try again later",
		Title:  "Temporarily refused: the gateway is short of disk space",
		Cause:  "The disk that holds the gateway's mail queue has less free space than its operators require, so it takes no new mail until space is freed. Mail it already accepted is still delivered.",
		Sender: "Nothing to do: your mail program tries again by itself, and the message goes out once the gateway has space again.",
		Admin:  "Operators: free space on the spool's file system (queue.dir), or change the floor (queue.min_free_bytes, queue.min_free_percent). While the floor holds, /healthz answers 503 with the reason, so a load balancer can send clients to another node."})
	add(Page{Code: "4.3.5", Who: Operator,
		Reply:  "451 4.3.5 Policy request not understood; the mail server's policy service configuration needs attention",
		Title:  "Temporarily refused: the mail server and its policy service do not understand each other",
		Cause:  "The mail server in front of the gateway (Postfix, through check_policy_service) sent its policy service a request it could not read: too large, not in the policy-delegation format, or of a kind it does not answer. The message was not refused for anything you did.",
		Sender: "Your mail program tries again by itself, but it will keep failing until the service's operators fix the set-up. Only your email admin can fix this: send them this page.",
		Admin:  "Operators: check that check_policy_service points at Tollgate's postfix.policy_listen and nothing else talks to that port (Tollgate's log says \"policy service: bad request\" with the reason). Requests are bounded to 4096-byte lines, 256 attributes and 64 KiB; see docs/postfix.md."})
}
