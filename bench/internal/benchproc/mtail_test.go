package benchproc

import "testing"

func TestMtailSumsAddsEveryLabelSet(t *testing.T) {
	js := `{"x_total":[{"Name":"x_total","LabelValues":[{"Labels":["a"],"Value":{"Value":2}},{"Labels":["b"],"Value":{"Value":3}}]}]}`
	sum, ok := MtailSums(js)
	if !ok || sum("x_total") != 5 || sum("missing") != 0 {
		t.Fatalf("ok=%v x_total=%v", ok, sum("x_total"))
	}
	if _, ok := MtailSums("not json"); ok {
		t.Fatal("non-JSON accepted")
	}
}
