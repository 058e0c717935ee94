package fps

import (
	"slices"
	"strings"

	"github.com/fpskit/fps/internal/rules"
)

// The FPS API versions the package speaks (spec/fps-api-versions.md). A
// request names one in its Version parameter; FPS answers it in that
// version's XML namespace, with that version's actions and parameters.
const (
	// APIVersion20080917 is the version of Amazon's 2008-09-17 SDKs, the
	// default: 25 actions.
	APIVersion20080917 = "2008-09-17"
	// APIVersion20100828 adds GetSubscriptionDetails,
	// GetTransactionsForSubscription and the OverrideIPNURL parameter of
	// eight actions; GetRecipientVerificationStatus answers
	// VerificationComplete, VerificationPending or
	// VerificationCompleteNoLimits.
	APIVersion20100828 = "2010-08-28"
	// APIVersion20110920 has the actions and parameters of 2010-08-28;
	// GetRecipientVerificationStatus answers PendingUserAction,
	// PendingReview, Closed or Active. No Amazon SDK of it is known.
	APIVersion20110920 = "2011-09-20"
)

// DefaultAPIVersion is the FPS API version sent in the Version parameter
// when Options.APIVersion is empty.
const DefaultAPIVersion = APIVersion20080917

// apiVersions are the versions the package speaks, oldest first.
var apiVersions = []string{APIVersion20080917, APIVersion20100828, APIVersion20110920}

// APIVersions returns the FPS API versions the package speaks, oldest
// first.
func APIVersions() []string { return slices.Clone(apiVersions) }

// knownVersion reports whether the package speaks version.
func knownVersion(version string) bool { return slices.Contains(apiVersions, version) }

// Namespace returns the XML namespace of FPS's success answers to requests
// of API version version, "http://fps.amazonaws.com/doc/<version>/", or ""
// for a version the package does not speak. Error answers carry no
// namespace in any version.
func Namespace(version string) string {
	if !knownVersion(version) {
		return ""
	}
	return "http://fps.amazonaws.com/doc/" + version + "/"
}

// versionsFrom returns the versions from first on, oldest first.
func versionsFrom(first string) []string {
	return slices.Clone(apiVersions[slices.Index(apiVersions, first):])
}

// listVersions writes versions as "a, b or c".
func listVersions(versions []string) string {
	if len(versions) < 2 {
		return strings.Join(versions, "")
	}
	return strings.Join(versions[:len(versions)-1], ", ") + " or " + versions[len(versions)-1]
}

// opVersions is what an operation declares about API versions: the first
// version that has the action, and the parameters a later version added.
type opVersions struct {
	first  string            // "" for every version
	params map[string]string // parameter name: first version that takes it
}

// opOption declares something about an operation beyond its name and
// effect; newOperation applies them in order.
type opOption func(*opVersions)

// since declares that the action exists from API version v on.
func since(v string) opOption {
	return func(o *opVersions) { o.first = v }
}

// paramSince declares that the action takes parameter name from API
// version v on; an older version lacks it.
func paramSince(name, v string) opOption {
	return func(o *opVersions) {
		if o.params == nil {
			o.params = map[string]string{}
		}
		o.params[name] = v
	}
}

// overrideIPNURL declares the OverrideIPNURL parameter of 2010-08-28 (the
// IPNs of the request go to this URL instead of the account's IPN URL),
// taken by Pay, Reserve, Settle, Refund, Cancel, CancelToken, FundPrepaid
// and SettleDebt (fps-api-versions §3.1).
var overrideIPNURL = paramSince(paramOverrideIPNURL, APIVersion20100828)

const paramOverrideIPNURL = "OverrideIPNURL"

// overrideIPNURL sends the OverrideIPNURL of an input, which must be an
// absolute http or https URL, when it is given.
func (b *builder) overrideIPNURL(value string) {
	if value == "" {
		return
	}
	b.refuse(rules.CheckHTTPURL(paramOverrideIPNURL, value, false))
	b.add(paramOverrideIPNURL, value)
}

// declared holds what each operation declared about versions, by action
// name. newOperation writes it while the package's variables are
// initialised; it is only read afterwards.
var declared = map[string]opVersions{}

// versions returns the API versions that have the action.
func (o opVersions) versions() []string {
	if o.first == "" {
		return APIVersions()
	}
	return versionsFrom(o.first)
}

// check refuses, before anything is sent, an action that API version
// version lacks (alone: nothing else is checked then) or each parameter of
// params that the action does not take in version.
func (o opVersions) check(action, version string, params []param) []*ValidationError {
	if !knownVersion(version) {
		return []*ValidationError{invalid("Version", "%q is not an API version of this package: it must be %s", version, listVersions(apiVersions))}
	}
	if vs := o.versions(); !slices.Contains(vs, version) {
		return []*ValidationError{invalid("Action", "%s is not an action of API version %s: it exists in %s", action, version, listVersions(vs))}
	}
	var errs []*ValidationError
	for _, p := range params {
		if first, ok := o.params[p.Name]; ok && slices.Index(apiVersions, version) < slices.Index(apiVersions, first) {
			errs = append(errs, invalid(p.Name, "is not a parameter of %s in API version %s: it exists from %s on", action, version, first))
		}
	}
	return errs
}

// ActionVersions returns the API versions that have action, oldest first,
// or nil when the package knows no such action.
func ActionVersions(action string) []string {
	o, ok := declared[action]
	if !ok {
		return nil
	}
	return o.versions()
}

// ParameterVersions returns the API versions in which action takes
// parameter, oldest first, for a parameter that a later version added to
// the action (OverrideIPNURL); for any other parameter it returns nil.
func ParameterVersions(action, parameter string) []string {
	first, ok := declared[action].params[parameter]
	if !ok {
		return nil
	}
	return versionsFrom(first)
}
