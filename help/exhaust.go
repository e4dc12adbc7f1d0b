package help

func init() {
	add(Page{Code: "4.3.1", Who: Retry,
		Reply:  "452 4.3.1 Insufficient system storage; try again later",
		Title:  "Temporarily refused: the gateway is short of disk space",
		Cause:  "The disk that holds the gateway's mail queue has less free space than its operators require, so it takes no new mail until space is freed. Mail it already accepted is still delivered.",
		Sender: "Nothing to do: your mail program tries again by itself, and the message goes out once the gateway has space again.",
		Admin:  "Operators: free space on the spool's file system (queue.dir), or change the floor (queue.min_free_bytes, queue.min_free_percent). While the floor holds, /healthz answers 503 with the reason, so a load balancer can send clients to another node."})
}
