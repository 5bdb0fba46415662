// Package inspect is wsgw's live inspector (SPEC §11): an Observer of the
// gateway that keeps the recent events of every connection within fixed
// bounds and serves them on loopback as a JSON API, a live stream of
// server-sent events and a page embedded in the binary; a Recorder that
// writes every event as JSON Lines; and Replay, which plays the client side
// of a recording against a gateway and reports every frame that differs.
package inspect
