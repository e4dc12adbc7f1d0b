package main

func runClassifyEval(args []string) error { return nil }
