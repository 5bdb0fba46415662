package main

import (
	"slices"
	"testing"
)

func TestSeqCheck(t *testing.T) {
	tests := []struct {
		name     string
		arrivals []int
		sent     int
		verdicts []seqVerdict
		lost     []int
	}{
		{"in order", []int{1, 2, 3}, 3, []seqVerdict{seqOK, seqOK, seqOK}, nil},
		{"lost in the middle", []int{1, 3}, 3, []seqVerdict{seqOK, seqOK}, []int{2}},
		{"lost at the end", []int{1, 2}, 4, []seqVerdict{seqOK, seqOK}, []int{3, 4}},
		{"duplicated", []int{1, 2, 2, 3}, 3, []seqVerdict{seqOK, seqOK, seqDuplicate, seqOK}, nil},
		{"duplicated late", []int{1, 2, 3, 1}, 3, []seqVerdict{seqOK, seqOK, seqOK, seqDuplicate}, nil},
		{"swapped", []int{2, 1, 3}, 3, []seqVerdict{seqOK, seqReordered, seqOK}, nil},
		{"one late", []int{1, 3, 4, 2}, 4, []seqVerdict{seqOK, seqOK, seqOK, seqReordered}, nil},
		{"invalid", []int{0, -1}, 1, []seqVerdict{seqInvalid, seqInvalid}, []int{1}},
		{"past a word", []int{64, 65, 200}, 200, []seqVerdict{seqOK, seqOK, seqOK}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var c seqCheck
			var got []seqVerdict
			for _, s := range tt.arrivals {
				got = append(got, c.observe(s))
			}
			if !slices.Equal(got, tt.verdicts) {
				t.Errorf("verdicts %v, want %v", got, tt.verdicts)
			}
			var lost []int
			c.lost(tt.sent, func(seq int) { lost = append(lost, seq) })
			if tt.name == "past a word" {
				if len(lost) != 197 {
					t.Errorf("%d lost, want 197", len(lost))
				}
				return
			}
			if !slices.Equal(lost, tt.lost) {
				t.Errorf("lost %v, want %v", lost, tt.lost)
			}
		})
	}
}
