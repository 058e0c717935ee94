package integration

import (
	"html/template"
	"strings"
)

// DefaultButtonImageURL is the "Amazon Payments" button image that
// django-merchant's template showed, over https.
const DefaultButtonImageURL = "https://g-ecx.images-amazon.com/images/G/01/cba/b/p3.gif"

// DefaultButtonAlt is the button's alternative text.
const DefaultButtonAlt = "Amazon Payments"

// ButtonOptions configures Button.
type ButtonOptions struct {
	// ImageURL is the button image; DefaultButtonImageURL when empty.
	ImageURL string
	// Alt is the image's alternative text; DefaultButtonAlt when empty.
	Alt string
}

// buttonTemplate escapes through html/template, which also neutralises a
// URL whose scheme is not http, https or mailto (a javascript: link
// becomes "#ZgotmplZ"). A parsed template is safe for concurrent use.
var buttonTemplate = template.Must(template.New("button").Parse(
	`<a href="{{.Link}}"><img src="{{.Image}}" alt="{{.Alt}}" /></a>`))

// Button returns the HTML of a link to linkURL, a signed pipeline URL from
// Client.PipelineURL, showing the "Amazon Payments" button: what
// django-merchant's render_integration tag printed. The URLs and the text
// are escaped for HTML, so the result can be put in an html/template as it
// is; a link that is not http or https is rendered harmless.
func Button(linkURL string, optFns ...func(*ButtonOptions)) template.HTML {
	o := ButtonOptions{ImageURL: DefaultButtonImageURL, Alt: DefaultButtonAlt}
	for _, fn := range optFns {
		fn(&o)
	}
	if o.ImageURL == "" {
		o.ImageURL = DefaultButtonImageURL
	}
	if o.Alt == "" {
		o.Alt = DefaultButtonAlt
	}
	var b strings.Builder
	// Execute fails only when writing fails; a strings.Builder does not.
	_ = buttonTemplate.Execute(&b, struct{ Link, Image, Alt string }{linkURL, o.ImageURL, o.Alt})
	return template.HTML(b.String())
}
