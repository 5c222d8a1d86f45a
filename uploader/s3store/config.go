package s3store

import (
	"crypto/sha256"
	"errors"
	"fmt"
	"hash"
	"hash/crc32"
	"strings"
)

// Config is the object storage part of the uploader's configuration. Key
// names follow sora-archive-uploader where it has one.
type Config struct {
	// Endpoint: "http://host:port" (plain), "https://host" or a bare host
	// (TLS). Empty: AWS S3 for Region.
	Endpoint string `conf:"object_storage_endpoint"`
	// Region signs requests; MinIO accepts its default us-east-1.
	Region string `conf:"object_storage_region"`
	// Bucket receives the objects.
	Bucket string `conf:"object_storage_bucket_name"`
	// KeyPrefix is put before "<recording_id>/<file name>".
	KeyPrefix string `conf:"object_storage_key_prefix"`
	// PathStyle addresses host/bucket/key instead of bucket.host/key (MinIO).
	PathStyle bool `conf:"object_storage_path_style"`
	// AccessKeyID and SecretAccessKey are static credentials; when both are
	// empty the SDK's default chain is used (AWS_* environment variables,
	// shared config files, instance roles).
	AccessKeyID     string `conf:"object_storage_access_key_id"`
	SecretAccessKey string `conf:"object_storage_secret_access_key"`
	// PartSizeMB: files up to this size go in one PUT, larger ones in parts
	// of this size.
	PartSizeMB int `conf:"upload_part_size_mb"`
	// PartConcurrency is the number of parts of one file sent at once.
	PartConcurrency int `conf:"upload_part_concurrency"`
	// RateLimitMbps limits each file's upload; 0 means unlimited.
	RateLimitMbps float64 `conf:"upload_file_rate_limit_mbps"`
	// Checksum is the algorithm sent with every PUT and part and compared
	// after the upload: crc32c (cheap on both ends) or sha256.
	Checksum string `conf:"object_storage_checksum"`
}

// The checksum algorithms Config.Checksum accepts.
const (
	ChecksumCRC32C = "crc32c"
	ChecksumSHA256 = "sha256"
)

// DefaultConfig returns the defaults: region us-east-1, 64 MiB parts, 2
// parts in flight per file, CRC32C checksums, no rate limit.
func DefaultConfig() Config {
	return Config{Region: "us-east-1", PartSizeMB: 64, PartConcurrency: 2, Checksum: ChecksumCRC32C}
}

// Validate reports every problem of c at once.
func (c Config) Validate() error {
	var errs []error
	if c.Bucket == "" {
		errs = append(errs, errors.New("object_storage_bucket_name is required"))
	}
	if c.Region == "" {
		errs = append(errs, errors.New("object_storage_region is required"))
	}
	if (c.AccessKeyID == "") != (c.SecretAccessKey == "") {
		errs = append(errs, errors.New("object_storage_access_key_id and object_storage_secret_access_key go together"))
	}
	if c.PartSizeMB < 5 || c.PartSizeMB > 5120 {
		errs = append(errs, fmt.Errorf("upload_part_size_mb %d: want 5…5120", c.PartSizeMB))
	}
	if c.PartConcurrency < 1 || c.PartConcurrency > 64 {
		errs = append(errs, fmt.Errorf("upload_part_concurrency %d: want 1…64", c.PartConcurrency))
	}
	if c.RateLimitMbps < 0 {
		errs = append(errs, fmt.Errorf("upload_file_rate_limit_mbps %g: want 0 (unlimited) or more", c.RateLimitMbps))
	}
	if c.Checksum != ChecksumCRC32C && c.Checksum != ChecksumSHA256 {
		errs = append(errs, fmt.Errorf("object_storage_checksum %q: want crc32c or sha256", c.Checksum))
	}
	if strings.HasPrefix(c.KeyPrefix, "/") {
		errs = append(errs, fmt.Errorf("object_storage_key_prefix %q must not start with /", c.KeyPrefix))
	}
	return errors.Join(errs...)
}

// newHash returns the checksum's hash constructor.
func (c Config) newHash() hash.Hash {
	if c.Checksum == ChecksumSHA256 {
		return sha256.New()
	}
	return crc32.New(crc32.MakeTable(crc32.Castagnoli))
}

// partSize is the part size in bytes.
func (c Config) partSize() int64 { return int64(c.PartSizeMB) << 20 }

// endpointURL adds https:// to a bare host.
func (c Config) endpointURL() string {
	if c.Endpoint == "" || strings.Contains(c.Endpoint, "://") {
		return c.Endpoint
	}
	return "https://" + c.Endpoint
}
