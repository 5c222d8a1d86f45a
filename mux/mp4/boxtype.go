package mp4

import "encoding/binary"

// boxType is a box's four-character code, big-endian in a uint32 so that
// the types are constants. The package writes and reads its boxes by hand
// (go-mp4, which the tests judge files with, costs every process that
// links it several milliseconds of start-up registering its box types).
type boxType uint32

// String returns the four characters.
func (t boxType) String() string {
	var b [4]byte
	binary.BigEndian.PutUint32(b[:], uint32(t))
	return string(b[:])
}

// The box types this package writes or reads.
const (
	typeMoov boxType = 'm'<<24 | 'o'<<16 | 'o'<<8 | 'v'
	typeMoof boxType = 'm'<<24 | 'o'<<16 | 'o'<<8 | 'f'
	typeFree boxType = 'f'<<24 | 'r'<<16 | 'e'<<8 | 'e'
	typeStsz boxType = 's'<<24 | 't'<<16 | 's'<<8 | 'z'
	typeStss boxType = 's'<<24 | 't'<<16 | 's'<<8 | 's'
	typeMdat boxType = 'm'<<24 | 'd'<<16 | 'a'<<8 | 't'
	typeTrun boxType = 't'<<24 | 'r'<<16 | 'u'<<8 | 'n'
	typeTrak boxType = 't'<<24 | 'r'<<16 | 'a'<<8 | 'k'
	typeTraf boxType = 't'<<24 | 'r'<<16 | 'a'<<8 | 'f'
	typeTkhd boxType = 't'<<24 | 'k'<<16 | 'h'<<8 | 'd'
	typeTfhd boxType = 't'<<24 | 'f'<<16 | 'h'<<8 | 'd'
	typeTfdt boxType = 't'<<24 | 'f'<<16 | 'd'<<8 | 't'
	typeStsd boxType = 's'<<24 | 't'<<16 | 's'<<8 | 'd'
	typeStbl boxType = 's'<<24 | 't'<<16 | 'b'<<8 | 'l'
	typeMvhd boxType = 'm'<<24 | 'v'<<16 | 'h'<<8 | 'd'
	typeMvex boxType = 'm'<<24 | 'v'<<16 | 'e'<<8 | 'x'
	typeMinf boxType = 'm'<<24 | 'i'<<16 | 'n'<<8 | 'f'
	typeMdia boxType = 'm'<<24 | 'd'<<16 | 'i'<<8 | 'a'
	typeMdhd boxType = 'm'<<24 | 'd'<<16 | 'h'<<8 | 'd'
	typeHdlr boxType = 'h'<<24 | 'd'<<16 | 'l'<<8 | 'r'
	typeFtyp boxType = 'f'<<24 | 't'<<16 | 'y'<<8 | 'p'
	typeVp09 boxType = 'v'<<24 | 'p'<<16 | '0'<<8 | '9'
	typeVp08 boxType = 'v'<<24 | 'p'<<16 | '0'<<8 | '8'
	typeVmhd boxType = 'v'<<24 | 'm'<<16 | 'h'<<8 | 'd'
	typeUrl  boxType = 'u'<<24 | 'r'<<16 | 'l'<<8 | ' '
	typeTrex boxType = 't'<<24 | 'r'<<16 | 'e'<<8 | 'x'
	typeStts boxType = 's'<<24 | 't'<<16 | 't'<<8 | 's'
	typeStsc boxType = 's'<<24 | 't'<<16 | 's'<<8 | 'c'
	typeStco boxType = 's'<<24 | 't'<<16 | 'c'<<8 | 'o'
	typeSmhd boxType = 's'<<24 | 'm'<<16 | 'h'<<8 | 'd'
	typeSkip boxType = 's'<<24 | 'k'<<16 | 'i'<<8 | 'p'
	typeOpus boxType = 'O'<<24 | 'p'<<16 | 'u'<<8 | 's'
	typeMfhd boxType = 'm'<<24 | 'f'<<16 | 'h'<<8 | 'd'
	typeElst boxType = 'e'<<24 | 'l'<<16 | 's'<<8 | 't'
	typeEdts boxType = 'e'<<24 | 'd'<<16 | 't'<<8 | 's'
	typeDref boxType = 'd'<<24 | 'r'<<16 | 'e'<<8 | 'f'
	typeDinf boxType = 'd'<<24 | 'i'<<16 | 'n'<<8 | 'f'
	typeCo64 boxType = 'c'<<24 | 'o'<<16 | '6'<<8 | '4'
	typeAv1C boxType = 'a'<<24 | 'v'<<16 | '1'<<8 | 'C'
	typeAv01 boxType = 'a'<<24 | 'v'<<16 | '0'<<8 | '1'
	typeAvc1 boxType = 'a'<<24 | 'v'<<16 | 'c'<<8 | '1'
	typeHvc1 boxType = 'h'<<24 | 'v'<<16 | 'c'<<8 | '1'
	typeAvcC boxType = 'a'<<24 | 'v'<<16 | 'c'<<8 | 'C'
	typeHvcC boxType = 'h'<<24 | 'v'<<16 | 'c'<<8 | 'C'
	typeDOps boxType = 'd'<<24 | 'O'<<16 | 'p'<<8 | 's'
	typeVpcC boxType = 'v'<<24 | 'p'<<16 | 'c'<<8 | 'C'
)

// Box header sizes: 32-bit size and type, or with a 64-bit size after them.
const (
	smallHeaderSize = 8
	largeHeaderSize = 16
)
