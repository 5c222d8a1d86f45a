package bits

import (
	"bytes"
	"errors"
	"testing"
)

func TestReaderFields(t *testing.T) {
	// 1 | 010 | 011 | 00100 | 0001000 ... : ue 0,1,2,3,7 then fixed 5 bits 10110.
	var w Writer
	w.Bits(16, 0xA5C3)
	for _, v := range []uint32{0, 1, 2, 3, 7, 255, 1<<32 - 2} {
		w.UE(v)
	}
	for _, v := range []int32{0, 1, -1, 2, -2, 1000, -1000} {
		w.SE(v)
	}
	w.Bits(5, 0x16)
	w.TrailingBits()

	r := NewReader(Escape(w.Bytes()))
	if got := r.Bits(16); got != 0xA5C3 {
		t.Fatalf("Bits(16) = %#x, want 0xA5C3", got)
	}
	for _, want := range []uint32{0, 1, 2, 3, 7, 255, 1<<32 - 2} {
		if got := r.UE(); got != want {
			t.Fatalf("UE = %d, want %d", got, want)
		}
	}
	for _, want := range []int64{0, 1, -1, 2, -2, 1000, -1000} {
		if got := r.SE(); got != want {
			t.Fatalf("SE = %d, want %d", got, want)
		}
	}
	if got := r.Bits(5); got != 0x16 {
		t.Fatalf("Bits(5) = %#x, want 0x16", got)
	}
	if !r.Flag() {
		t.Fatal("stop bit not read as 1")
	}
	if err := r.Err(); err != nil {
		t.Fatalf("Err = %v", err)
	}
}

func TestReaderEmulationPrevention(t *testing.T) {
	tests := []struct {
		name    string
		escaped []byte
		want    []byte // RBSP bytes the reader must see
	}{
		{"plain", []byte{0x12, 0x34}, []byte{0x12, 0x34}},
		{"epb before 01", []byte{0, 0, 3, 1, 0xff}, []byte{0, 0, 1, 0xff}},
		{"epb before 00", []byte{0, 0, 3, 0, 0, 3, 2}, []byte{0, 0, 0, 0, 2}},
		{"03 without two zeros kept", []byte{0, 3, 0, 3}, []byte{0, 3, 0, 3}},
		{"trailing epb", []byte{0xaa, 0, 0, 3}, []byte{0xaa, 0, 0}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := NewReader(tt.escaped)
			var got []byte
			for range tt.want {
				got = append(got, byte(r.Bits(8)))
			}
			if r.Err() != nil || !bytes.Equal(got, tt.want) {
				t.Fatalf("read %x (err %v), want %x", got, r.Err(), tt.want)
			}
			r.Bits(8)
			if !errors.Is(r.Err(), ErrTruncated) {
				t.Fatalf("read past end: err %v, want ErrTruncated", r.Err())
			}
		})
	}
}

func TestPlainReaderKeepsEveryByte(t *testing.T) {
	tests := []struct {
		name string
		data []byte
	}{
		{"no zeros", []byte{0x12, 0x34}},
		{"03 after two zeros", []byte{0, 0, 3, 1, 0xff}},
		{"trailing 03", []byte{0xaa, 0, 0, 3}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := NewPlainReader(tt.data)
			var got []byte
			for range tt.data {
				got = append(got, byte(r.Bits(8)))
			}
			if r.Err() != nil || !bytes.Equal(got, tt.data) {
				t.Fatalf("read %x (err %v), want %x", got, r.Err(), tt.data)
			}
			if r.Bit(); !errors.Is(r.Err(), ErrTruncated) {
				t.Fatalf("read past end: err %v, want ErrTruncated", r.Err())
			}
		})
	}
}

func TestReaderErrors(t *testing.T) {
	tests := []struct {
		name string
		data []byte
		read func(r *Reader)
		want error
	}{
		{"empty", nil, func(r *Reader) { r.Bit() }, ErrTruncated},
		{"bits past end", []byte{0xff}, func(r *Reader) { r.Bits(9) }, ErrTruncated},
		{"ue prefix runs out", []byte{0x00}, func(r *Reader) { r.UE() }, ErrTruncated},
		{"ue suffix runs out", []byte{0x01}, func(r *Reader) { r.UE() }, ErrTruncated},
		{"ue too long", []byte{0, 0, 0, 0, 0x80}, func(r *Reader) { r.UE() }, ErrExpGolomb},
		{"ue over max", []byte{0x08, 0x00}, func(r *Reader) { r.UEMax(5, errTest) }, errTest},
		{"first error sticks", []byte{0x08, 0x00}, func(r *Reader) {
			r.UEMax(5, errTest)
			r.Fail(ErrExpGolomb)
		}, errTest},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := NewReader(tt.data)
			tt.read(&r)
			if !errors.Is(r.Err(), tt.want) {
				t.Fatalf("err %v, want %v", r.Err(), tt.want)
			}
			if r.Bits(8) != 0 || r.UE() != 0 {
				t.Fatal("reads after an error must return zero")
			}
		})
	}
}

var errTest = errors.New("test: value too large")

func TestEscape(t *testing.T) {
	tests := []struct{ rbsp, want []byte }{
		{[]byte{0, 0, 1}, []byte{0, 0, 3, 1}},
		{[]byte{0, 0, 0, 0}, []byte{0, 0, 3, 0, 0, 3}},
		{[]byte{0, 0, 4}, []byte{0, 0, 4}},
		{[]byte{1, 0, 0}, []byte{1, 0, 0, 3}},
	}
	for _, tt := range tests {
		if got := Escape(tt.rbsp); !bytes.Equal(got, tt.want) {
			t.Errorf("Escape(%x) = %x, want %x", tt.rbsp, got, tt.want)
		}
	}
}

func FuzzReader(f *testing.F) {
	f.Add([]byte{0, 0, 3, 1, 0x80})
	f.Add([]byte{0xff, 0x00, 0x00, 0x03})
	f.Add([]byte{0, 0, 0, 0, 0x80})
	f.Fuzz(func(t *testing.T, data []byte) {
		r := NewReader(data)
		for i := 0; r.Err() == nil; i++ {
			if i > 8*len(data) {
				t.Fatal("reader did not stop at the end of its data")
			}
			switch i % 3 {
			case 0:
				r.UE()
			case 1:
				r.SE()
			default:
				r.Bits(i % 33)
			}
		}
	})
}
