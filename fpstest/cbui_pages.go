package fpstest

import (
	"html/template"
	"net/http"
	"net/url"
)

// pageStyle is the little CSS of the simulator's pages.
const pageStyle = `<style>
body{margin:0;background:#eaeded;color:#111;font:15px/1.5 "DejaVu Sans",Arial,sans-serif}
header{background:#232f3e;color:#fff;padding:.7rem 2rem;font-weight:bold;font-size:1.1rem}
header span{color:#ff9900}
main{max-width:34rem;margin:2rem auto;background:#fff;border:1px solid #d5d9d9;border-radius:8px;padding:1.2rem 2rem}
h1{font-size:1.4rem;margin:.2rem 0 1rem}
fieldset{border:1px solid #d5d9d9;border-radius:6px;margin:1rem 0;padding:.5rem 1rem}
label{display:block;padding:.2rem 0}
button{font:inherit;padding:.4rem 1rem;border-radius:6px;border:1px solid #a88734;background:#f7dfa5;margin-right:.4rem;cursor:pointer}
button[value=approve]{background:#ffd814;border-color:#fcd200;font-weight:bold}
</style>`

var pageTmpl = template.Must(template.New("page").Parse(`<!DOCTYPE html>
<html><head><meta charset="utf-8"><title>Amazon Payments (simulated)</title>` + pageStyle + `</head>
<body>
<header>amazon <span>payments</span> · simulator</header>
<main>
<h1>Amazon Payments (simulated)</h1>
<p>{{.Pipeline}} authorization for <b>{{.Caller}}</b>{{if .Amount}}: USD {{.Amount}}{{end}}</p>
{{if .Reason}}<p>Reason: {{.Reason}}</p>{{end}}
<form method="post" action="{{.Action}}">
<input type="hidden" name="session" value="{{.Session}}">
<fieldset><legend>Payment method</legend>
{{range $i, $m := .Methods}}<label><input type="radio" name="paymentMethod" value="{{$m.Code}}"{{if eq $i 0}} checked{{end}}> {{$m.Name}} ({{$m.Code}})</label>
{{end}}</fieldset>
<button name="action" value="approve">Approve</button>
<button name="action" value="decline">Decline</button>
<button name="action" value="abandon">Cancel and return</button>
</form>
</main>
</body></html>
`))

// paymentMethod is a payment method as the pipeline page shows it.
type paymentMethod struct{ Code, Name string }

func paymentMethods(codes []string) []paymentMethod {
	out := make([]paymentMethod, len(codes))
	for i, c := range codes {
		out[i] = paymentMethod{Code: c, Name: c}
		switch c {
		case "ABT":
			out[i].Name = "Amazon Payments balance"
		case "ACH":
			out[i].Name = "Bank account"
		case "CC":
			out[i].Name = "Credit card"
		}
	}
	return out
}

var errorTmpl = template.Must(template.New("error").Parse(`<!DOCTYPE html>
<html><head><meta charset="utf-8"><title>Amazon Payments (simulated): error</title></head>
<body><h1>Caller Input Exception</h1><p>{{.}}</p></body></html>
`))

func (s *Server) serveCBUIStart(w http.ResponseWriter, r *http.Request) {
	q, err := url.ParseQuery(r.URL.RawQuery)
	if err != nil {
		pageFail(w, "The pipeline URL is not a well-formed query: "+err.Error())
		return
	}
	redirect, p, err := s.startPipeline(r.Host, q)
	if err != nil {
		pageFail(w, err.Error())
		return
	}
	if redirect != nil {
		http.Redirect(w, r, redirect.String(), http.StatusFound)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	_ = pageTmpl.Execute(w, map[string]any{
		"Pipeline": p.name, "Caller": s.account(p.owner).Name, "Amount": q.Get("transactionAmount"),
		"Reason": q.Get("paymentReason"), "Action": cbuiDecidePath, "Session": p.id, "Methods": paymentMethods(p.methods),
	})
}

func pageFail(w http.ResponseWriter, msg string) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(http.StatusBadRequest)
	_ = errorTmpl.Execute(w, msg)
}

func (s *Server) serveCBUIDecide(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		pageFail(w, err.Error())
		return
	}
	u, err := s.decide(r.PostForm.Get("session"), BuyerChoice{
		Action: BuyerAction(r.PostForm.Get("action")), PaymentMethod: r.PostForm.Get("paymentMethod"),
	})
	if err != nil {
		pageFail(w, err.Error())
		return
	}
	http.Redirect(w, r, u.String(), http.StatusFound)
}

func (s *Server) serveCBUIBuy(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	u, err := s.Buy(r.Context(), r.PostForm.Get("url"), BuyerChoice{
		Action: BuyerAction(r.PostForm.Get("action")), PaymentMethod: r.PostForm.Get("paymentMethod"),
	})
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	http.Redirect(w, r, u.String(), http.StatusFound)
}
