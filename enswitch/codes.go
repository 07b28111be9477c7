package enswitch

import "github.com/ensbulk/ensbulk/batch"

// Response codes of the Enswitch JSON API, as the server writes them.
const (
	CodeOK    = "200"
	CodeValid = "201" // input passed validation (validation=1 only)
	// CodeTwoFactor is user/login's answer (Enswitch 4.4) for a user with
	// two-factor login: the password was right, and a one-time code is
	// wanted, which an API client cannot give. See ErrTwoFactor.
	CodeTwoFactor    = "202"
	CodeUpdated      = "204"
	CodeInvalid      = "400"
	CodeUnauthorized = "401"
	CodeRole         = "402"
	CodePlan         = "403"
	CodeNotFound     = "404"
	CodeRateLimited  = "429"
)

// codeKinds is the one table from response codes to error kinds. The
// simulator answers with the same codes. A code that is not here is a
// transport-level surprise: Transient, retried.
var codeKinds = map[string]batch.Kind{
	CodeInvalid:      batch.KindInvalid,
	CodeUnauthorized: batch.KindUnauthorized,
	CodeRole:         batch.KindForbidden,
	CodePlan:         batch.KindForbidden,
	CodeNotFound:     batch.KindNotFound,
}

// IsSuccess reports whether code is a success code of some API call, so
// the envelope is not an error. Which one a call needed is its caller's
// to judge: for mailboxes/update the engine takes only 201 to a validation
// and 204 to an apply (batch.CodeValidated, batch.CodeApplied).
func IsSuccess(code string) bool {
	switch code {
	case CodeOK, CodeValid, CodeUpdated, CodeTwoFactor:
		return true
	}
	return false
}

// CodeKind returns the error kind for a non-success response code.
func CodeKind(code string) batch.Kind {
	if k, ok := codeKinds[code]; ok {
		return k
	}
	return batch.KindTransient
}
