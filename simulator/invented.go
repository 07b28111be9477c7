package simulator

import (
	"fmt"
	"slices"
	"strings"
)

// Rule names a rule the simulator invents: the vendor's pages do not
// document it, a real server may well behave otherwise, and so each can
// be turned off (Config.NoInvented, ensbulk sim --no-invented) to
// rehearse against a server that does not have it. docs/simulator.md
// lists them beside what the simulator follows from the vendor.
type Rule string

// The invented rules. Each is in force unless turned off.
const (
	// RuleUnknownParam: a parameter the function does not take is a 400
	// (key = the parameter, with the closest known name). Off: ignored.
	RuleUnknownParam Rule = "unknown-param"
	// RuleDuplicateParam: a parameter sent twice is a 400. Off: the last
	// value counts, as most form parsers do.
	RuleDuplicateParam Rule = "duplicate-param"
	// RuleLengthCap: free text is at most 255 characters (a mailbox
	// number 64), as a database column would be. Off: any length.
	RuleLengthCap Rule = "length-cap"
	// RuleTextCheck: text with control characters or invalid UTF-8 is a
	// 400. Off: stored as sent.
	RuleTextCheck Rule = "text-check"
	// RuleHTTP415: a POST body that is not
	// application/x-www-form-urlencoded is refused with HTTP 415. Off:
	// such a body is not read as a form (as a CGI server ignores it).
	RuleHTTP415 Rule = "http-415"
	// RuleHTTP413: a request body over 1 MiB is refused with HTTP 413.
	// Off: bodies up to 32 MiB are read (the server still bounds them).
	RuleHTTP413 Rule = "http-413"
	// RuleRoles: the role names administrator, reseller, user,
	// residential and readonly, with their rules: readonly may not
	// update (402); user and residential reach their own customer only.
	// Off: a role is a name only: every user may update, and reaches its
	// own customer and every descendant.
	RuleRoles Rule = "roles"
	// RuleExtraColumns: get and list write the read-only columns id and
	// created besides the update parameters. Off: only the parameters.
	RuleExtraColumns Rule = "extra-columns"
	// RuleCustomer403: a customer's rate plan refuses updates of that
	// customer's mailboxes only (a 403 scoped to one customer), besides
	// the user's own customer's plan refusing all the user's updates.
	// Off: only the user's own customer's plan refuses.
	RuleCustomer403 Rule = "customer-403"
	// RuleExtraDTypes: dtype also takes "", mailbox, queue, voicemail and
	// ivr, older simulator values, besides the vendor's hangup, forward,
	// peer, phone and sipuri. Off: the vendor's five (unless
	// Config.DTypes says otherwise).
	RuleExtraDTypes Rule = "extra-dtypes"
)

// InventedRules returns every invented rule, in the order
// docs/simulator.md lists them.
func InventedRules() []Rule {
	return []Rule{RuleUnknownParam, RuleDuplicateParam, RuleLengthCap, RuleTextCheck,
		RuleHTTP415, RuleHTTP413, RuleRoles, RuleExtraColumns, RuleCustomer403, RuleExtraDTypes}
}

// VendorDTypes returns the dtype values the vendor documents.
func VendorDTypes() []string {
	return []string{"hangup", "forward", "peer", "phone", "sipuri"}
}

// ParseRules reads a list of invented rules such as
// "unknown-param,length-cap"; "all" names every one, "" none.
func ParseRules(s string) ([]Rule, error) {
	var out []Rule
	for _, part := range strings.Split(s, ",") {
		part = strings.TrimSpace(part)
		switch {
		case part == "":
		case part == "all":
			out = append(out, InventedRules()...)
		case slices.Contains(InventedRules(), Rule(part)):
			out = append(out, Rule(part))
		default:
			names := make([]string, 0, len(InventedRules()))
			for _, r := range InventedRules() {
				names = append(names, string(r))
			}
			return nil, fmt.Errorf("unknown invented rule %q: want all, or some of %s", part, strings.Join(names, ", "))
		}
	}
	return out, nil
}

// ruleSet is which invented rules are in force.
type ruleSet struct{ off map[Rule]bool }

func newRuleSet(off []Rule) (ruleSet, error) {
	rs := ruleSet{off: map[Rule]bool{}}
	for _, r := range off {
		if !slices.Contains(InventedRules(), r) {
			return rs, fmt.Errorf("unknown invented rule %q", r)
		}
		rs.off[r] = true
	}
	return rs, nil
}

// on reports whether rule r is in force.
func (rs ruleSet) on(r Rule) bool { return !rs.off[r] }
