package fps

import (
	"encoding/xml"
	"fmt"
	"io"
	"net/http"
	"reflect"
	"slices"
	"strings"

	"github.com/aws/smithy-go"
)

// TransactionStatus is the status of an FPS transaction. API responses
// spell it "Success", IPNs "SUCCESS"; ParseTransactionStatus accepts both.
// A value FPS sends that is not one of the constants is kept as sent.
type TransactionStatus string

// The transaction statuses of FPS 2008-09-17.
const (
	TransactionStatusSuccess   TransactionStatus = "Success"
	TransactionStatusPending   TransactionStatus = "Pending"
	TransactionStatusReserved  TransactionStatus = "Reserved"
	TransactionStatusFailure   TransactionStatus = "Failure"
	TransactionStatusCancelled TransactionStatus = "Cancelled"
)

// Values returns the known transaction statuses.
func (TransactionStatus) Values() []TransactionStatus {
	return []TransactionStatus{
		TransactionStatusSuccess, TransactionStatusPending, TransactionStatusReserved,
		TransactionStatusFailure, TransactionStatusCancelled,
	}
}

// ParseTransactionStatus reads a status case-insensitively ("Success",
// "SUCCESS"), and reports false for a value that is not a status.
func ParseTransactionStatus(s string) (TransactionStatus, bool) {
	for _, st := range TransactionStatus("").Values() {
		if strings.EqualFold(s, string(st)) {
			return st, true
		}
	}
	return "", false
}

// Known reports whether s is one of the statuses FPS documents; a status
// FPS sends that is not is kept as sent, and is neither Final nor
// MoneyMoved.
func (s TransactionStatus) Known() bool {
	return slices.Contains(s.Values(), s)
}

// Final reports whether the status will not change any more: Success,
// Failure or Cancelled. Pending and Reserved still move.
func (s TransactionStatus) Final() bool {
	return s == TransactionStatusSuccess || s == TransactionStatusFailure || s == TransactionStatusCancelled
}

// MoneyMoved reports whether the status means the sender was charged (or,
// for a refund, credited): only Success.
func (s TransactionStatus) MoneyMoved() bool { return s == TransactionStatusSuccess }

// UnmarshalText reads a status case-insensitively, as ParseTransactionStatus
// does. A value that is not a known status is kept as sent, so that an
// answer with a status this package does not know still decodes.
func (s *TransactionStatus) UnmarshalText(b []byte) error {
	if st, ok := ParseTransactionStatus(string(b)); ok {
		*s = st
	} else {
		*s = TransactionStatus(b)
	}
	return nil
}

// ErrorDetail is one <Error> entry of an FPS error response.
type ErrorDetail struct {
	// Type is "Sender" or "Receiver" in the SDK envelope; empty in the
	// envelope the service sends.
	Type    string
	Code    ErrorCode
	Message string
	Detail  string
}

// APIError is an error answer of FPS: an HTTP status that is not 2xx, with
// the error envelope decoded. Code and Message are those of the first
// <Error>; Errors holds every entry. It implements smithy.APIError.
type APIError struct {
	Code      ErrorCode
	Message   string
	RequestID string
	// StatusCode is the HTTP status of the answer (also HTTPStatusCode()).
	StatusCode int
	Errors     []ErrorDetail
}

// Error implements error.
func (e *APIError) Error() string {
	var b strings.Builder
	b.WriteString("fps: ")
	if e.Code != "" {
		b.WriteString(string(e.Code))
	} else {
		fmt.Fprintf(&b, "HTTP %d", e.StatusCode)
	}
	if e.Message != "" {
		b.WriteString(": ")
		b.WriteString(e.Message)
	}
	if len(e.Errors) > 1 {
		fmt.Fprintf(&b, " (and %d more errors)", len(e.Errors)-1)
	}
	if e.RequestID != "" {
		b.WriteString(" (request id ")
		b.WriteString(e.RequestID)
		b.WriteString(")")
	}
	return b.String()
}

// ErrorCode returns the FPS error code, such as "InsufficientBalance".
func (e *APIError) ErrorCode() string { return string(e.Code) }

// ErrorMessage returns the message of the first error entry.
func (e *APIError) ErrorMessage() string { return e.Message }

// ErrorFault says whose fault the error is: the server's for HTTP 5xx or an
// entry of type Receiver, the client's otherwise.
func (e *APIError) ErrorFault() smithy.ErrorFault {
	if e.StatusCode >= 500 {
		return smithy.FaultServer
	}
	for _, d := range e.Errors {
		if d.Type == "Receiver" {
			return smithy.FaultServer
		}
	}
	return smithy.FaultClient
}

// HTTPStatusCode returns the HTTP status of the answer.
func (e *APIError) HTTPStatusCode() int { return e.StatusCode }

// Retriable reports the documented "Retriable" flag of the code: true means
// the same request may succeed later (often only after the buyer or the
// caller fixed something, as for InsufficientBalance). It is not what the
// client retries by itself: that is only InternalError,
// ConcurrentModification, throttling, HTTP 5xx and network errors.
func (e *APIError) Retriable() bool { return Retriable(e.Code) }

// ErrorCode is the code of an FPS error answer, such as
// ErrCodeInsufficientBalance. A code FPS sends that is not among the
// constants is kept as sent.
type ErrorCode string

// The FPS error codes (API version 2008-09-17) and the generic AWS codes
// FPS answered with.
const (
	ErrCodeAccessFailure                        ErrorCode = "AccessFailure"
	ErrCodeAccountClosed                        ErrorCode = "AccountClosed"
	ErrCodeAccountLimitsExceeded                ErrorCode = "AccountLimitsExceeded"
	ErrCodeAmountOutOfRange                     ErrorCode = "AmountOutOfRange"
	ErrCodeAuthFailure                          ErrorCode = "AuthFailure"
	ErrCodeConcurrentModification               ErrorCode = "ConcurrentModification"
	ErrCodeDuplicateRequest                     ErrorCode = "DuplicateRequest"
	ErrCodeInactiveInstrument                   ErrorCode = "InactiveInstrument"
	ErrCodeIncompatibleTokens                   ErrorCode = "IncompatibleTokens"
	ErrCodeInstrumentAccessDenied               ErrorCode = "InstrumentAccessDenied"
	ErrCodeInstrumentExpired                    ErrorCode = "InstrumentExpired"
	ErrCodeInsufficientBalance                  ErrorCode = "InsufficientBalance"
	ErrCodeInternalError                        ErrorCode = "InternalError"
	ErrCodeInvalidAccountState                  ErrorCode = "InvalidAccountState"
	ErrCodeInvalidAccountStateCaller            ErrorCode = "InvalidAccountState_Caller"
	ErrCodeInvalidAccountStateRecipient         ErrorCode = "InvalidAccountState_Recipient"
	ErrCodeInvalidAccountStateSender            ErrorCode = "InvalidAccountState_Sender"
	ErrCodeInvalidCallerReference               ErrorCode = "InvalidCallerReference"
	ErrCodeInvalidClientTokenID                 ErrorCode = "InvalidClientTokenId"
	ErrCodeInvalidDateRange                     ErrorCode = "InvalidDateRange"
	ErrCodeInvalidParams                        ErrorCode = "InvalidParams"
	ErrCodeInvalidPaymentInstrument             ErrorCode = "InvalidPaymentInstrument"
	ErrCodeInvalidPaymentMethod                 ErrorCode = "InvalidPaymentMethod"
	ErrCodeInvalidRecipientForCCTransaction     ErrorCode = "InvalidRecipientForCCTransaction"
	ErrCodeInvalidSenderRoleForAccountType      ErrorCode = "InvalidSenderRoleForAccountType"
	ErrCodeInvalidTokenID                       ErrorCode = "InvalidTokenId"
	ErrCodeInvalidTokenIDRecipient              ErrorCode = "InvalidTokenId_Recipient"
	ErrCodeInvalidTokenIDSender                 ErrorCode = "InvalidTokenId_Sender"
	ErrCodeInvalidTokenType                     ErrorCode = "InvalidTokenType"
	ErrCodeInvalidTransactionID                 ErrorCode = "InvalidTransactionId"
	ErrCodeInvalidTransactionState              ErrorCode = "InvalidTransactionState"
	ErrCodeNotMarketplaceApp                    ErrorCode = "NotMarketplaceApp"
	ErrCodeOriginalTransactionFailed            ErrorCode = "OriginalTransactionFailed"
	ErrCodeOriginalTransactionIncomplete        ErrorCode = "OriginalTransactionIncomplete"
	ErrCodePaymentInstrumentNotCC               ErrorCode = "PaymentInstrumentNotCC"
	ErrCodePaymentMethodNotDefined              ErrorCode = "PaymentMethodNotDefined"
	ErrCodePrepaidFundingLimitExceeded          ErrorCode = "PrepaidFundingLimitExceeded"
	ErrCodeRefundAmountExceeded                 ErrorCode = "RefundAmountExceeded"
	ErrCodeSameSenderAndRecipient               ErrorCode = "SameSenderAndRecipient"
	ErrCodeSameTokenIDUsedMultipleTimes         ErrorCode = "SameTokenIdUsedMultipleTimes"
	ErrCodeSenderNotOriginalRecipient           ErrorCode = "SenderNotOriginalRecipient"
	ErrCodeSettleAmountGreaterThanDebt          ErrorCode = "SettleAmountGreaterThanDebt"
	ErrCodeSettleAmountGreaterThanReserveAmount ErrorCode = "SettleAmountGreaterThanReserveAmount"
	ErrCodeSignatureDoesNotMatch                ErrorCode = "SignatureDoesNotMatch"
	ErrCodeTokenAccessDenied                    ErrorCode = "TokenAccessDenied"
	ErrCodeTokenNotActive                       ErrorCode = "TokenNotActive"
	ErrCodeTokenNotActiveRecipient              ErrorCode = "TokenNotActive_Recipient"
	ErrCodeTokenNotActiveSender                 ErrorCode = "TokenNotActive_Sender"
	ErrCodeTokenUsageError                      ErrorCode = "TokenUsageError"
	ErrCodeTransactionDenied                    ErrorCode = "TransactionDenied"
	ErrCodeTransactionFullyRefundedAlready      ErrorCode = "TransactionFullyRefundedAlready"
	ErrCodeTransactionTypeNotRefundable         ErrorCode = "TransactionTypeNotRefundable"
	ErrCodeUnverifiedAccountRecipient           ErrorCode = "UnverifiedAccount_Recipient"
	ErrCodeUnverifiedAccountSender              ErrorCode = "UnverifiedAccount_Sender"
	ErrCodeUnverifiedBankAccount                ErrorCode = "UnverifiedBankAccount"
	ErrCodeUnverifiedEmailAddressCaller         ErrorCode = "UnverifiedEmailAddress_Caller"
	ErrCodeUnverifiedEmailAddressRecipient      ErrorCode = "UnverifiedEmailAddress_Recipient"
	ErrCodeUnverifiedEmailAddressSender         ErrorCode = "UnverifiedEmailAddress_Sender"

	ErrCodeInvalidParameterValue ErrorCode = "InvalidParameterValue"
	ErrCodeRequestExpired        ErrorCode = "RequestExpired"
	ErrCodeInvalidSignature      ErrorCode = "InvalidSignature"
)

// retriableCodes are the codes the FPS error table marks "Retriable: Yes".
var retriableCodes = map[ErrorCode]bool{
	ErrCodeAccessFailure: true, ErrCodeAccountClosed: true, ErrCodeAccountLimitsExceeded: true,
	ErrCodeAuthFailure: true, ErrCodeConcurrentModification: true, ErrCodeInsufficientBalance: true,
	ErrCodeInternalError: true, ErrCodeInvalidAccountState: true, ErrCodeInvalidAccountStateCaller: true,
	ErrCodeInvalidAccountStateRecipient: true, ErrCodeInvalidAccountStateSender: true,
	ErrCodeNotMarketplaceApp: true, ErrCodeOriginalTransactionIncomplete: true,
	ErrCodePrepaidFundingLimitExceeded: true,
}

// Retriable reports the documented "Retriable" flag of an FPS error code:
// true when the same request may succeed if tried later, by the caller
// (InsufficientBalance, AccountLimitsExceeded, InternalError, ...). Unknown
// codes are not retriable. The client itself retries only transient faults;
// see Options.Retryer.
func Retriable(code ErrorCode) bool { return retriableCodes[code] }

// maxResponseBytes caps the body of an answer that is read.
const maxResponseBytes = 1 << 20

// errorEnvelope decodes both error shapes: the service's
// <Response><Errors><Error>…</Errors><RequestID> and the SDK's
// <ErrorResponse><Error>…</Error>+<RequestId>.
type errorEnvelope struct {
	XMLName      xml.Name
	Errors       []ErrorDetail `xml:"Errors>Error"`
	Error        []ErrorDetail `xml:"Error"`
	RequestID    string        `xml:"RequestID"`
	RequestIDSDK string        `xml:"RequestId"`
	ResponseMD   string        `xml:"ResponseMetadata>RequestId"`
}

// decodeAPIError reads an error answer. A body that is not an FPS error
// envelope still gives an *APIError, with the HTTP status and no code.
func decodeAPIError(status int, body []byte) *APIError {
	e := &APIError{StatusCode: status}
	var env errorEnvelope
	if xml.Unmarshal(body, &env) != nil {
		e.Message = http.StatusText(status)
		return e
	}
	e.Errors = append(env.Errors, env.Error...)
	e.RequestID = firstNonEmpty(env.RequestID, env.RequestIDSDK, env.ResponseMD)
	if len(e.Errors) > 0 {
		e.Code, e.Message = e.Errors[0].Code, e.Errors[0].Message
	} else {
		e.Message = http.StatusText(status)
	}
	return e
}

func firstNonEmpty(ss ...string) string {
	for _, s := range ss {
		if s != "" {
			return s
		}
	}
	return ""
}

// requestIDField is the RequestID field of an output, when it has one.
func requestIDField(out any) reflect.Value {
	return reflect.ValueOf(out).Elem().FieldByName("RequestID")
}

// resultAliases names the other spellings of a result element: the
// service's own for GetRecipientVerificationStatus is uncertain.
var resultAliases = map[string]string{
	"GetRecipientVerificationStatus": "GetRecipientVerification",
}

// decodeResult reads a success answer of action, sent in API version,
// into out: the root must be <{action}Response> in the version's
// namespace, its <{action}Result> child (in the same namespace) is decoded
// into out, and the request id is stored. Elements of out marked
// `fps:"required"` must be present. Values are read as the schema's types
// read them (lenientTokens): whitespace around a number, an amount, an
// enumerated value or a date is ignored, and a date-time without a zone
// is UTC.
func decodeResult(action, version string, body []byte, out any) error {
	dec := xml.NewTokenDecoder(newLenientTokens(body, reflect.TypeOf(out).Elem()))
	names := []string{action}
	if alias, ok := resultAliases[action]; ok {
		names = append(names, alias)
	}
	ns := Namespace(version)
	var root string
	depth := 0
	for {
		tok, err := dec.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			return &smithy.DeserializationError{Err: fmt.Errorf("fps: %s response: %w", action, err)}
		}
		switch t := tok.(type) {
		case xml.StartElement:
			depth++
			switch {
			case depth == 1:
				root = t.Name.Local
				if !slices.Contains(names, strings.TrimSuffix(root, "Response")) || !strings.HasSuffix(root, "Response") {
					return &smithy.DeserializationError{Err: fmt.Errorf("fps: %s response: root element is <%s>, want <%sResponse>", action, root, action)}
				}
				if t.Name.Space != ns {
					return &smithy.DeserializationError{Err: fmt.Errorf("fps: %s response: namespace %q is not %q, that of API version %s the request was sent in", action, t.Name.Space, ns, version)}
				}
			case depth == 2 && t.Name.Local == strings.TrimSuffix(root, "Response")+"Result" && t.Name.Space == ns:
				if err := dec.DecodeElement(out, &t); err != nil {
					return &smithy.DeserializationError{Err: fmt.Errorf("fps: %s response: %w", action, err)}
				}
				depth--
			case depth == 2 && t.Name.Local == "ResponseMetadata":
				var md struct {
					RequestID string `xml:"RequestId"`
				}
				if err := dec.DecodeElement(&md, &t); err != nil {
					return &smithy.DeserializationError{Err: fmt.Errorf("fps: %s response: %w", action, err)}
				}
				if f := requestIDField(out); f.IsValid() {
					f.SetString(md.RequestID)
				}
				depth--
			}
		case xml.EndElement:
			depth--
		}
	}
	if root == "" {
		return &smithy.DeserializationError{Err: fmt.Errorf("fps: %s response: empty body", action)}
	}
	if err := checkRequired(reflect.ValueOf(out).Elem(), ""); err != nil {
		return &smithy.DeserializationError{Err: fmt.Errorf("fps: %s response: %w", action, err)}
	}
	return nil
}

// checkRequired reports the first field tagged `fps:"required"` that is
// empty, looking into nested structs and slices of this package's types.
func checkRequired(v reflect.Value, path string) error {
	t := v.Type()
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		if !f.IsExported() {
			continue
		}
		name := f.Name
		if tag, _, _ := strings.Cut(f.Tag.Get("xml"), ","); tag != "" && tag != "-" {
			name = tag
		}
		name = path + name
		fv := v.Field(i)
		if hasFPSTag(f, "required") && isEmpty(fv) {
			return fmt.Errorf("required element %s is missing", name)
		}
		if err := checkNested(fv, name+"."); err != nil {
			return err
		}
	}
	return nil
}

var packagePath = reflect.TypeOf(Amount{}).PkgPath()

func checkNested(v reflect.Value, path string) error {
	switch v.Kind() {
	case reflect.Pointer:
		if !v.IsNil() {
			return checkNested(v.Elem(), path)
		}
	case reflect.Slice:
		for i := 0; i < v.Len(); i++ {
			if err := checkNested(v.Index(i), path); err != nil {
				return err
			}
		}
	case reflect.Struct:
		if v.Type().PkgPath() == packagePath {
			return checkRequired(v, path)
		}
	}
	return nil
}

func isEmpty(v reflect.Value) bool {
	if z, ok := v.Interface().(interface{ IsZero() bool }); ok {
		return z.IsZero()
	}
	return v.IsZero()
}
