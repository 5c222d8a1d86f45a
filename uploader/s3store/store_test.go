package s3store

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"io"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/kiroku-sfu/kiroku/uploader/internal/miniotest"
	"github.com/kiroku-sfu/kiroku/uploader/throttle"
)

func randomBytes(n int, seed uint64) []byte {
	b := make([]byte, n)
	r := rand.New(rand.NewPCG(seed, seed))
	for i := range b {
		b[i] = byte(r.Uint32())
	}
	return b
}

func b64sha(b []byte) string {
	s := sha256.Sum256(b)
	return base64.StdEncoding.EncodeToString(s[:])
}

func TestDigest(t *testing.T) {
	data := randomBytes(10<<10+5, 1)
	const part = 4 << 10
	composite := func(parts ...[]byte) string {
		h := sha256.New()
		for _, p := range parts {
			s := sha256.Sum256(p)
			h.Write(s[:])
		}
		return base64.StdEncoding.EncodeToString(h.Sum(nil))
	}
	tests := []struct {
		name      string
		size      int64
		composite string
	}{
		{"empty", 0, ""},
		{"one part", part, ""},
		{"three parts", int64(len(data)), composite(data[:part], data[part:2*part], data[2*part:]) + "-3"},
		{"two whole parts", 2 * part, composite(data[:part], data[part:2*part]) + "-2"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sum, err := Digest(bytes.NewReader(data), tt.size, part, sha256.New)
			if err != nil {
				t.Fatal(err)
			}
			if sum.Full != b64sha(data[:tt.size]) || sum.Composite != tt.composite || sum.Size != tt.size {
				t.Errorf("Digest = %+v, want composite %q", sum, tt.composite)
			}
		})
	}
	if _, err := Digest(bytes.NewReader(data[:100]), 200, part, sha256.New); !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Errorf("Digest of a short file: %v", err)
	}
}

func TestValidate(t *testing.T) {
	tests := []struct {
		name string
		edit func(*Config)
		want string
	}{
		{"ok", func(*Config) {}, ""},
		{"no bucket", func(c *Config) { c.Bucket = "" }, "object_storage_bucket_name"},
		{"half credentials", func(c *Config) { c.SecretAccessKey = "" }, "go together"},
		{"small parts", func(c *Config) { c.PartSizeMB = 1 }, "upload_part_size_mb"},
		{"no part concurrency", func(c *Config) { c.PartConcurrency = 0 }, "upload_part_concurrency"},
		{"negative rate", func(c *Config) { c.RateLimitMbps = -1 }, "upload_file_rate_limit_mbps"},
		{"absolute prefix", func(c *Config) { c.KeyPrefix = "/x" }, "object_storage_key_prefix"},
		{"checksum", func(c *Config) { c.Checksum = "md5" }, "object_storage_checksum"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := DefaultConfig()
			c.Bucket, c.AccessKeyID, c.SecretAccessKey = "b", "k", "s"
			tt.edit(&c)
			err := c.Validate()
			if (tt.want == "") != (err == nil) || (err != nil && !strings.Contains(err.Error(), tt.want)) {
				t.Errorf("Validate = %v, want %q", err, tt.want)
			}
		})
	}
}

func TestContentType(t *testing.T) {
	for name, want := range map[string]string{
		"a.mp4": "video/mp4", "a.webm": "video/webm", "a.json": "application/json", "a.bin": "application/octet-stream",
	} {
		if got := ContentType(name); got != want {
			t.Errorf("ContentType(%q) = %q, want %q", name, got, want)
		}
	}
}

func testStore(t *testing.T, srv *miniotest.Server, bucket string, create bool) *Store {
	return testStoreWith(t, srv, bucket, create, ChecksumCRC32C)
}

func testStoreWith(t *testing.T, srv *miniotest.Server, bucket string, create bool, checksum string) *Store {
	t.Helper()
	cfg := DefaultConfig()
	cfg.Checksum = checksum
	cfg.Endpoint, cfg.Bucket, cfg.PathStyle, cfg.KeyPrefix = srv.Endpoint, bucket, true, "p/"
	cfg.AccessKeyID, cfg.SecretAccessKey = miniotest.User, miniotest.Password
	cfg.PartSizeMB = 5
	s, err := New(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	if create {
		if _, err := s.Client().CreateBucket(context.Background(), &s3.CreateBucketInput{Bucket: aws.String(bucket)}); err != nil {
			t.Fatal(err)
		}
	}
	return s
}

func get(t *testing.T, s *Store, key string) []byte {
	t.Helper()
	out, err := s.Client().GetObject(context.Background(), &s3.GetObjectInput{Bucket: aws.String(s.Bucket()), Key: aws.String(key)}, noChecksumLog)
	if err != nil {
		t.Fatal(err)
	}
	defer out.Body.Close()
	b, err := io.ReadAll(out.Body)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestStoreMinIO(t *testing.T) {
	srv := miniotest.Start(t)
	ctx := context.Background()
	tests := []struct {
		name string
		size int
	}{
		{"empty", 0},
		{"small", 1000},
		{"multipart", 12<<20 + 7},
	}
	for _, checksum := range []string{ChecksumCRC32C, ChecksumSHA256} {
		s := testStoreWith(t, srv, "store-"+checksum, true, checksum)
		for i, tt := range tests {
			t.Run(checksum+"/"+tt.name, func(t *testing.T) {
				data := randomBytes(tt.size, uint64(i))
				sum, err := s.Digest(bytes.NewReader(data), int64(len(data)))
				if err != nil {
					t.Fatal(err)
				}
				key := s.Key("R", tt.name+".mp4")
				meter := s.NewMeter()
				if err := s.Put(ctx, key, "video/mp4", bytes.NewReader(data), sum, meter); err != nil {
					t.Fatal(err)
				}
				if err := s.Verify(ctx, key, sum); err != nil {
					t.Fatal(err)
				}
				if got := get(t, s, key); !bytes.Equal(got, data) {
					t.Fatalf("stored %d bytes differ from the %d sent", len(got), len(data))
				}
				if meter.Sent() < int64(len(data)) {
					t.Errorf("meter saw %d bytes of %d", meter.Sent(), len(data))
				}
				if tt.size > 0 {
					other, _ := s.Digest(bytes.NewReader(randomBytes(tt.size, 99)), int64(tt.size))
					if err := s.Verify(ctx, key, other); !errors.Is(err, ErrMismatch) {
						t.Errorf("Verify with another file's checksum: %v", err)
					}
				}
				bad := sum
				bad.Size++
				if err := s.Verify(ctx, key, bad); !errors.Is(err, ErrMismatch) {
					t.Errorf("Verify with a wrong size: %v", err)
				}
			})
		}
	}
	s := testStore(t, srv, "urls", false)
	if s.URL("p/R/a.mp4") != "s3://urls/p/R/a.mp4" {
		t.Errorf("URL = %q", s.URL("p/R/a.mp4"))
	}
}

func TestAbortStale(t *testing.T) {
	srv := miniotest.Start(t)
	s := testStore(t, srv, "stale", true)
	ctx := context.Background()
	for _, key := range []string{"p/R/big.mp4", "p/R/big.mp4", "p/R/big.mp4.other"} {
		if _, err := s.Client().CreateMultipartUpload(ctx, &s3.CreateMultipartUploadInput{
			Bucket: aws.String("stale"), Key: aws.String(key),
		}); err != nil {
			t.Fatal(err)
		}
	}
	n, err := s.AbortStale(ctx, "p/R/big.mp4")
	if err != nil || n != 2 {
		t.Fatalf("AbortStale = %d, %v; want 2 aborted", n, err)
	}
	if n, err := s.AbortStale(ctx, "p/R/big.mp4"); err != nil || n != 0 {
		t.Fatalf("second AbortStale = %d, %v; want 0", n, err)
	}
}

func TestPermanentErrors(t *testing.T) {
	srv := miniotest.Start(t)
	ctx := context.Background()
	data := []byte("{}")
	missing := testStore(t, srv, "missing", false)
	sum, err := missing.Digest(bytes.NewReader(data), 2)
	if err != nil {
		t.Fatal(err)
	}
	err = missing.Put(ctx, "k", "application/json", bytes.NewReader(data), sum, throttle.NewMeter(0))
	if reason, ok := Permanent(err); !ok || reason != "NoSuchBucket" {
		t.Errorf("missing bucket: Permanent(%v) = %q, %v", err, reason, ok)
	}

	wrong := testStore(t, srv, "creds", true)
	cfg := wrong.cfg
	cfg.SecretAccessKey = "wrong-secret"
	wrong, err = New(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	err = wrong.Put(ctx, "k", "application/json", bytes.NewReader(data), sum, throttle.NewMeter(0))
	if reason, ok := Permanent(err); !ok || reason != "SignatureDoesNotMatch" {
		t.Errorf("wrong secret: Permanent(%v) = %q, %v", err, reason, ok)
	}

	srv.Stop()
	err = wrong.Put(ctx, "k", "application/json", bytes.NewReader(data), sum, throttle.NewMeter(0))
	if reason, ok := Permanent(err); err == nil || ok {
		t.Errorf("server down: Permanent(%v) = %q, %v; want a transient error", err, reason, ok)
	}
}

// noChecksumLog reads objects without the client's own response checksum
// check, which only logs for multipart objects; tests compare bytes instead.
func noChecksumLog(o *s3.Options) {
	o.ResponseChecksumValidation = aws.ResponseChecksumValidationWhenRequired
}
