package template

import "testing"

// TestPartitionFollowsRegion: ${AWS::Partition} and ${AWS::URLSuffix} are the
// region's, as in CloudFormation, and agree with the partition of the ARNs
// SAM generates (Stack.Partition); --param sets them explicitly.
func TestPartitionFollowsRegion(t *testing.T) {
	src := "Resources:\n  X: {Type: Custom::X}\nOutputs:\n  P: {Value: !Sub '${AWS::Partition} ${AWS::URLSuffix}'}\n"
	for _, tc := range []struct {
		params map[string]string
		want   string
	}{
		{nil, "aws amazonaws.com"},
		{map[string]string{"AWS::Region": "cn-north-1"}, "aws-cn amazonaws.com.cn"},
		{map[string]string{"AWS::Region": "us-gov-west-1"}, "aws-us-gov amazonaws.com"},
		{map[string]string{"AWS::Region": "cn-north-1", "AWS::Partition": "aws"}, "aws amazonaws.com"},
	} {
		st, ds := Load("t.yaml", []byte(src), Options{Params: tc.params})
		if st == nil || ds.HasErrors() {
			t.Fatalf("%v: %v", tc.params, ds)
		}
		if got := st.Outputs[0].Value.Str(); got != tc.want || (tc.params["AWS::Partition"] == "" && st.Partition+" " != got[:len(st.Partition)+1]) {
			t.Errorf("%v: got %q (Stack.Partition %q), want %q", tc.params, got, st.Partition, tc.want)
		}
	}
}
