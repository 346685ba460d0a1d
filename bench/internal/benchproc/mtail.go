package benchproc

import "encoding/json"

// MtailSums reads mtail's one-shot JSON output and returns a function
// summing every label set of one metric; ok is false when the output is not
// that JSON.
func MtailSums(js string) (sum func(metric string) float64, ok bool) {
	var store map[string][]struct {
		LabelValues []struct {
			Value struct{ Value float64 }
		}
	}
	if err := json.Unmarshal([]byte(js), &store); err != nil {
		return nil, false
	}
	return func(metric string) (n float64) {
		for _, m := range store[metric] {
			for _, lv := range m.LabelValues {
				n += lv.Value.Value
			}
		}
		return n
	}, true
}
