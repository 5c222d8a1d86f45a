package s3store

import (
	"errors"

	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/smithy-go"
)

// permanentCode reports whether an S3 error code is one that retrying
// cannot fix: the bucket, the region or the credentials are wrong until an
// operator changes them.
func permanentCode(code string) bool {
	switch code {
	case "AccessDenied", "AllAccessDisabled", "AccountProblem", "AuthorizationHeaderMalformed",
		"InvalidAccessKeyId", "InvalidBucketName", "InvalidRegion", "NoSuchBucket",
		"PermanentRedirect", "SignatureDoesNotMatch":
		return true
	}
	return false
}

// Permanent reports whether err is a configuration problem (bucket,
// region, credentials) rather than a passing one, and names it.
func Permanent(err error) (reason string, ok bool) {
	var api smithy.APIError
	if errors.As(err, &api) && permanentCode(api.ErrorCode()) {
		return api.ErrorCode(), true
	}
	var sign *v4.SigningError
	if errors.As(err, &sign) {
		return "CredentialsUnavailable", true
	}
	return "", false
}
