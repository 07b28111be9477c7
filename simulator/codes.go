package simulator

// The response codes the simulator answers with, written out here from
// the vendor's reference page rather than taken from the client's table
// in package enswitch: a code wrong in one table must not pass a test
// that runs the client against the simulator.
const (
	codeOK           = "200" // get, list and user/login succeeded
	codeValid        = "201" // input passed validation (validation=1 only)
	codeTwoFactor    = "202" // user/login (4.4): the user has two-factor login; a code is needed
	codeUpdated      = "204" // the update was applied
	codeInvalid      = "400" // invalid input; key names the parameter
	codeUnauthorized = "401" // authentication invalid
	codeRole         = "402" // the user's role does not allow this
	codePlan         = "403" // the rate plan does not allow this
	codeNotFound     = "404" // the mailbox or customer is missing or not visible
)
