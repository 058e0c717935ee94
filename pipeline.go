package fps

import (
	"fmt"
	"net/url"
)

// PipelineStatus is the status code the Co-Branded UI appends to the
// return URL.
type PipelineStatus string

// The Co-Branded UI status codes.
const (
	PipelineStatusSuccessABT       PipelineStatus = "SA" // success, Amazon Payments balance
	PipelineStatusSuccessACH       PipelineStatus = "SB" // success, bank account
	PipelineStatusSuccessCC        PipelineStatus = "SC" // success, credit card
	PipelineStatusSystemError      PipelineStatus = "SE"
	PipelineStatusAborted          PipelineStatus = "A"  // the buyer abandoned the pipeline
	PipelineStatusCallerException  PipelineStatus = "CE" // bad input from the merchant; see ErrorMessage
	PipelineStatusPaymentMismatch  PipelineStatus = "PE" // the buyer lacks the payment method asked for
	PipelineStatusNotPermitted     PipelineStatus = "NP"
	PipelineStatusNotRegistered    PipelineStatus = "NM" // not a registered third-party caller
	PipelineStatusRecipientSuccess PipelineStatus = "SR" // recipient token installed
	PipelineStatusUnchanged        PipelineStatus = "SU" // EditToken finished, token unchanged
)

var pipelineStatusMeaning = map[PipelineStatus]string{
	PipelineStatusSuccessABT:       "success: the buyer chose the Amazon Payments balance",
	PipelineStatusSuccessACH:       "success: the buyer chose a bank account",
	PipelineStatusSuccessCC:        "success: the buyer chose a credit card",
	PipelineStatusSystemError:      "system error at Amazon",
	PipelineStatusAborted:          "the buyer abandoned the pipeline",
	PipelineStatusCallerException:  "caller exception: the pipeline request was not well formed",
	PipelineStatusPaymentMismatch:  "payment method mismatch: the buyer has none of the methods asked for",
	PipelineStatusNotPermitted:     "not permitted",
	PipelineStatusNotRegistered:    "the caller is not registered as a third-party caller for this transaction",
	PipelineStatusRecipientSuccess: "success: recipient token installed",
	PipelineStatusUnchanged:        "success: token edited, nothing changed",
}

// Meaning describes the status in words; "unknown status" for a code FPS
// does not define.
func (s PipelineStatus) Meaning() string {
	if m, ok := pipelineStatusMeaning[s]; ok {
		return m
	}
	return "unknown status"
}

// Known reports whether s is one of the documented codes.
func (s PipelineStatus) Known() bool { _, ok := pipelineStatusMeaning[s]; return ok }

// Success reports whether the pipeline installed (or kept) a token: SA,
// SB, SC, SR or SU.
func (s PipelineStatus) Success() bool {
	switch s {
	case PipelineStatusSuccessABT, PipelineStatusSuccessACH, PipelineStatusSuccessCC,
		PipelineStatusRecipientSuccess, PipelineStatusUnchanged:
		return true
	}
	return false
}

// PipelineReturn is what the Co-Branded UI appended to the return URL.
// Its signature is checked by a Verifier, not here.
type PipelineReturn struct {
	Status          PipelineStatus
	CallerReference string
	TokenID         string // sender token (SingleUse, MultiUse, Recurring), recipient token (SR), edited token
	RefundTokenID   string // Recipient pipeline
	Expiry          string // MM/YYYY
	ErrorMessage    string

	// SetupPostpaid
	CreditInstrumentID  string
	CreditSenderTokenID string
	SettlementTokenID   string

	// SetupPrepaid
	PrepaidInstrumentID  string
	PrepaidSenderTokenID string
	FundingTokenID       string

	// Params holds every parameter received, the signature fields and any
	// the merchant put in the return URL included.
	Params url.Values
}

// ParsePipelineReturn reads the parameters Amazon appended to the return
// URL (the query of the request, decoded). A missing or unknown status is
// an error; a success without a token is an error.
func ParsePipelineReturn(query url.Values) (*PipelineReturn, error) {
	r := &PipelineReturn{
		Status:               PipelineStatus(query.Get("status")),
		CallerReference:      query.Get("callerReference"),
		TokenID:              query.Get("tokenID"),
		RefundTokenID:        query.Get("refundTokenID"),
		Expiry:               query.Get("expiry"),
		ErrorMessage:         query.Get("errorMessage"),
		CreditInstrumentID:   query.Get("creditInstrumentID"),
		CreditSenderTokenID:  query.Get("creditSenderTokenID"),
		SettlementTokenID:    query.Get("settlementTokenID"),
		PrepaidInstrumentID:  query.Get("prepaidInstrumentID"),
		PrepaidSenderTokenID: query.Get("prepaidSenderTokenID"),
		FundingTokenID:       query.Get("fundingTokenID"),
		Params:               query,
	}
	if r.Status == "" {
		return nil, fmt.Errorf("fps: pipeline return: status is missing")
	}
	if !r.Status.Known() {
		return nil, fmt.Errorf("fps: pipeline return: status %q is not a Co-Branded UI status code", string(r.Status))
	}
	if r.Status.Success() && r.TokenID == "" && r.CreditInstrumentID == "" && r.PrepaidInstrumentID == "" {
		return nil, fmt.Errorf("fps: pipeline return: status %s without a token id", string(r.Status))
	}
	return r, nil
}
