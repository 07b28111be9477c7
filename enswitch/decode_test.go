package enswitch

import (
	"reflect"
	"testing"
)

// commonBodies are envelopes of the shape decodeCommon takes, and near
// misses it must leave to the general decoder.
var commonBodies = []string{
	`{"responses":[{"code":"204","key":"","message":"OK"}]}`,
	`{"responses":[{"code":"201","key":"","message":"Input is valid"}]}` + "\n",
	`{"responses":[{"code":"400","key":"pin","message":"Must be 4 to 10 digits"},{"code":"400","key":"timezone","message":"Unknown time zone"}]}`,
	`{"responses":[{"code":"400","key":"x","message":"say \"hi\""}]}`,
	`{"responses":[{"code":" 204 ","key":"","message":"Ünïcödé OK"}]}`,
	`{"responses":[{"code":"","key":"","message":"OK"}]}`,
	`{"responses":[{"code":"204","key":"","message":"bad \xff byte"}]}`,
	`{"responses":[{"code":"204","key":"","message":"tab	inside"}]}`,
	`{"responses":[{"code":204,"key":"","message":"OK"}]}`,
	`{"responses":{"code":"204","key":"","message":"OK"}}`,
	`{"responses":[{"code":"204","key":"","message":"OK"}],"data":{"mailbox":"1001"}}`,
	`{"responses":[{"code":"204","key":"","message":"OK"}]}x`,
	`{"responses":[{"code":"204","key":"","message":"OK"},]}`,
	`{"responses":[{"code":"204","key":"","message":"OK"}]`,
	`{"responses":[]}`,
	` {"responses":[{"code":"204","key":"","message":"OK"}]}`,
	`{"responses":[{"code":"204","key":"","message":"OK","extra":1}]}`,
	`{"responses":[{"code":"204","key":"","message":"OK"}]}{}`,
}

// TestDecodeCommonAgrees checks that the fast path decodes exactly as the
// general decoder whenever it takes a body.
func TestDecodeCommonAgrees(t *testing.T) {
	took := 0
	for _, body := range commonBodies {
		checkCommon(t, []byte(body))
		if _, ok := decodeCommon([]byte(body)); ok {
			took++
		}
	}
	if took < 4 {
		t.Errorf("decodeCommon took %d bodies, want the 4 common ones at least", took)
	}
}

func FuzzDecodeCommon(f *testing.F) {
	for _, b := range commonBodies {
		f.Add([]byte(b))
	}
	f.Fuzz(func(t *testing.T, body []byte) { checkCommon(t, body) })
}

func checkCommon(t *testing.T, body []byte) {
	t.Helper()
	fast, ok := decodeCommon(body)
	if !ok {
		return
	}
	slow, err := decodeGeneral(body)
	if err != nil {
		t.Fatalf("%q: fast path took it, general decoder says %v", body, err)
	}
	if !reflect.DeepEqual(fast, slow) {
		t.Fatalf("%q: fast path %+v, general decoder %+v", body, fast, slow)
	}
}
