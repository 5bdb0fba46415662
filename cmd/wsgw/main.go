// Command wsgw lints and serves Amazon API Gateway WebSocket APIs described by
// CloudFormation, SAM or CDK templates.
package main

import "os"

func main() { os.Exit(run(os.Args[1:], os.Stdin, os.Stdout, os.Stderr)) }
