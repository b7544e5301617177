package hooks

import (
	"encoding/json"
	"errors"
	"os"
	"reflect"
	"strconv"
	"testing"
	"time"
)

// signatureVector is the fixed vector the TypeScript package's tests check
// too (testdata/signature-v1.json, computed independently).
type signatureVector struct {
	Secret, Timestamp, Body, Signature string
}

func loadVector(t *testing.T) signatureVector {
	t.Helper()
	raw, err := os.ReadFile("testdata/signature-v1.json")
	if err != nil {
		t.Fatal(err)
	}
	var v signatureVector
	if err := json.Unmarshal(raw, &v); err != nil {
		t.Fatal(err)
	}
	return v
}

func TestSignMatchesTheVector(t *testing.T) {
	v := loadVector(t)
	if got := Sign([]byte(v.Secret), v.Timestamp, []byte(v.Body)); got != v.Signature {
		t.Fatalf("Sign = %s, the vector says %s", got, v.Signature)
	}
}

func TestVerify(t *testing.T) {
	v := loadVector(t)
	ts, _ := strconv.ParseInt(v.Timestamp, 10, 64)
	at := time.Unix(ts, 0)
	cases := []struct {
		name           string
		secret, ts, sg string
		body           string
		now            time.Time
		want           error
	}{
		{"valid", v.Secret, v.Timestamp, v.Signature, v.Body, at.Add(time.Minute), nil},
		{"other secret", v.Secret + "x", v.Timestamp, v.Signature, v.Body, at, ErrBadSignature},
		{"body changed", v.Secret, v.Timestamp, v.Signature, v.Body + " ", at, ErrBadSignature},
		{"timestamp changed", v.Secret, strconv.FormatInt(ts+1, 10), v.Signature, v.Body, at, ErrBadSignature},
		{"replayed later", v.Secret, v.Timestamp, v.Signature, v.Body, at.Add(MaxSkew + time.Second), ErrStale},
		{"from the future", v.Secret, v.Timestamp, v.Signature, v.Body, at.Add(-MaxSkew - time.Second), ErrStale},
		{"no timestamp", v.Secret, "", v.Signature, v.Body, at, ErrBadSignature},
		{"no signature", v.Secret, v.Timestamp, "", v.Body, at, ErrBadSignature},
	}
	for _, c := range cases {
		if err := Verify([]byte(c.secret), c.ts, c.sg, []byte(c.body), c.now); !errors.Is(err, c.want) {
			t.Errorf("%s: Verify = %v, want %v", c.name, err, c.want)
		}
	}
}

func TestBinaryCrossesAsBase64Objects(t *testing.T) {
	in := []any{"text", []byte{0, 1, 255}, map[string]any{"nested": []any{[]byte("hi")}}}
	raw, err := json.Marshal(encodeBinary(in))
	if err != nil {
		t.Fatal(err)
	}
	if want := `["text",{"_sockside_binary":"AAH/"},{"nested":[{"_sockside_binary":"aGk="}]}]`; string(raw) != want {
		t.Fatalf("encoded %s, want %s", raw, want)
	}
	var back any
	if err := json.Unmarshal(raw, &back); err != nil {
		t.Fatal(err)
	}
	if got := decodeBinary(back); !reflect.DeepEqual(got, in) {
		t.Fatalf("decoded %#v, want %#v", got, in)
	}
	// Objects that only look alike stay objects.
	for _, s := range []string{`{"_sockside_binary":"not base64!"}`, `{"_sockside_binary":"aGk=","other":1}`, `{"_sockside_binary":7}`} {
		var v any
		_ = json.Unmarshal([]byte(s), &v)
		if _, isBytes := decodeBinary(v).([]byte); isBytes {
			t.Errorf("%s decoded as bytes", s)
		}
	}
}
