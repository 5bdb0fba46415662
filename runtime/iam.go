package runtime

import (
	"net/http"
	"strings"
)

// IAM authorization of a $connect route (AuthorizationType AWS_IAM): the
// handshake must carry a Signature Version 4 signature, in an Authorization
// header or a presigned query string. wsgw does not check the signature (our
// choice, as for the @connections API, SPEC ): there are no credentials
// to check it against locally. An unsigned handshake is refused with 403 and
// the body API Gateway answers unsigned requests to IAM-protected routes with.

// sigV4Algorithm is the only algorithm SigV4 signatures name.
const sigV4Algorithm = "AWS4-HMAC-SHA256"

// iamDenied is why a handshake to an AWS_IAM route was refused: the status,
// the x-amzn-ErrorType and the message of the JSON body.
type iamDenied struct {
	status  int
	errType string
	message string
}

// missingToken is API Gateway's answer to an unsigned request to an IAM
// route (the MISSING_AUTHENTICATION_TOKEN gateway response).
var missingToken = &iamDenied{http.StatusForbidden, "MissingAuthenticationTokenException", "Missing Authentication Token"}

// sigV4AccessKey returns the access key id of the SigV4 signature r carries,
// or why r is not signed. The Authorization header form needs Credential,
// SignedHeaders and Signature, and an X-Amz-Date or Date header; the
// presigned form X-Amz-Algorithm, X-Amz-Credential, X-Amz-Date,
// X-Amz-SignedHeaders and X-Amz-Signature in the query string. A request
// with neither is missing its token; one with a malformed signature gets
// the IncompleteSignatureException API Gateway answers (403).
func sigV4AccessKey(r *http.Request) (string, *iamDenied) {
	if auth := r.Header.Get("Authorization"); auth != "" {
		return headerSignature(auth, r.Header)
	}
	q := r.URL.Query()
	if q.Get("X-Amz-Algorithm") == "" && q.Get("X-Amz-Signature") == "" && q.Get("X-Amz-Credential") == "" {
		return "", missingToken
	}
	var missing []string
	if alg := q.Get("X-Amz-Algorithm"); alg != sigV4Algorithm {
		missing = append(missing, "X-Amz-Algorithm must be "+sigV4Algorithm)
	}
	for _, p := range []string{"X-Amz-Credential", "X-Amz-Date", "X-Amz-SignedHeaders", "X-Amz-Signature"} {
		if q.Get(p) == "" {
			missing = append(missing, "AWS query-string parameters must include '"+p+"'.")
		}
	}
	key, ok := credentialKey(q.Get("X-Amz-Credential"))
	if !ok && q.Get("X-Amz-Credential") != "" {
		missing = append(missing, "X-Amz-Credential must have the form ACCESS_KEY/DATE/REGION/SERVICE/aws4_request")
	}
	if len(missing) > 0 {
		return "", incomplete(strings.Join(missing, " "))
	}
	return key, nil
}

// headerSignature reads an Authorization header:
// AWS4-HMAC-SHA256 Credential=AKID/20260505/us-east-1/execute-api/aws4_request, SignedHeaders=host;x-amz-date, Signature=hex.
func headerSignature(auth string, h http.Header) (string, *iamDenied) {
	rest, ok := strings.CutPrefix(auth, sigV4Algorithm+" ")
	if !ok {
		return "", incomplete("Authorization header requires the " + sigV4Algorithm + " algorithm (Signature Version 4).")
	}
	params := map[string]string{}
	for _, part := range strings.Split(rest, ",") {
		k, v, _ := strings.Cut(strings.TrimSpace(part), "=")
		params[k] = v
	}
	var missing []string
	for _, p := range []string{"Credential", "Signature", "SignedHeaders"} {
		if params[p] == "" {
			missing = append(missing, "Authorization header requires '"+p+"' parameter.")
		}
	}
	if h.Get("X-Amz-Date") == "" && h.Get("Date") == "" {
		missing = append(missing, "Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header.")
	}
	key, ok := credentialKey(params["Credential"])
	if !ok && params["Credential"] != "" {
		missing = append(missing, "Credential must have the form ACCESS_KEY/DATE/REGION/SERVICE/aws4_request.")
	}
	if len(missing) > 0 {
		return "", incomplete(strings.Join(missing, " "))
	}
	return key, nil
}

// credentialKey returns the access key id of a credential scope
// ACCESS_KEY/DATE/REGION/SERVICE/aws4_request.
func credentialKey(cred string) (string, bool) {
	parts := strings.Split(cred, "/")
	if len(parts) != 5 || parts[0] == "" || parts[4] != "aws4_request" {
		return "", false
	}
	return parts[0], true
}

func incomplete(msg string) *iamDenied {
	return &iamDenied{http.StatusForbidden, "IncompleteSignatureException", msg}
}
