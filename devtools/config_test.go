package devtools

import "testing"

func TestConfigValidate(t *testing.T) {
	for _, tc := range []struct {
		value string
		ok    bool
	}{{"auto", true}, {"true", true}, {"false", true}, {"", false}, {"yes", false}, {"TRUE", false}, {"1", false}} {
		err := Config{DevTools: tc.value}.Validate()
		if (err == nil) != tc.ok {
			t.Errorf("Validate(%q) = %v, want ok %v", tc.value, err, tc.ok)
		}
	}
}

func TestConfigDecide(t *testing.T) {
	for _, tc := range []struct {
		name                   string
		value                  string
		loopbackOnly, defaults bool
		want                   Exposure
	}{
		{"make run: built-in defaults, signaling on every interface", "auto", false, true, LoopbackClients},
		{"config file, signaling on 127.0.0.1 only", "auto", true, false, Everyone},
		{"built-in defaults and loopback signaling", "auto", true, true, Everyone},
		{"config file, signaling on every interface", "auto", false, false, Off},
		{"dev_tools = true on a public listener", "true", false, false, Everyone},
		{"dev_tools = false even on loopback", "false", true, false, Off},
		{"dev_tools = false with built-in defaults", "false", false, true, Off},
	} {
		if got := (Config{DevTools: tc.value}).Decide(tc.loopbackOnly, tc.defaults); got != tc.want {
			t.Errorf("%s: Decide = %v, want %v", tc.name, got, tc.want)
		}
	}
}

func TestDefaultConfigIsValid(t *testing.T) {
	if err := DefaultConfig().Validate(); err != nil {
		t.Fatal(err)
	}
}
