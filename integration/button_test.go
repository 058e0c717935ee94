package integration_test

import (
	"encoding/xml"
	"fmt"
	"html/template"
	"strings"
	"testing"

	"github.com/fpskit/fps/integration"
	"github.com/stretchr/testify/require"
)

// buttonAttrs renders b inside a page through html/template and reads the
// link and image attributes back with an XML decoder, which undoes the
// HTML escaping.
func buttonAttrs(t *testing.T, b template.HTML) (href, src, alt string) {
	t.Helper()
	page := template.Must(template.New("page").Parse(`<div>{{.}}</div>`))
	var out strings.Builder
	require.NoError(t, page.Execute(&out, b))
	var doc struct {
		A struct {
			Href string `xml:"href,attr"`
			Img  struct {
				Src string `xml:"src,attr"`
				Alt string `xml:"alt,attr"`
			} `xml:"img"`
		} `xml:"a"`
	}
	require.NoError(t, xml.Unmarshal([]byte(out.String()), &doc), out.String())
	return doc.A.Href, doc.A.Img.Src, doc.A.Img.Alt
}

func TestButtonSignedLink(t *testing.T) {
	link, err := newOffline(t, "https://shop.example/").WithFields(map[string]string{
		"pipelineName": "SingleUse", "transactionAmount": "10", "callerReference": "ref-1",
	}).LinkURL(t.Context())
	require.NoError(t, err)
	b := integration.Button(link)
	require.Contains(t, string(b), "&amp;callerReference=", "& is escaped in the attribute")
	href, src, alt := buttonAttrs(t, b)
	require.Equal(t, link, href, "the link survives escaping byte for byte")
	require.Equal(t, integration.DefaultButtonImageURL, src)
	require.Equal(t, "Amazon Payments", alt)
}

func TestButtonEscapesQuotesAndAmpersands(t *testing.T) {
	b := integration.Button(`https://shop.example.com/start?a=1&b="x"&c='y'><script>`)
	s := string(b)
	require.NotContains(t, s, `"x"`)
	require.NotContains(t, s, "<script>")
	require.Equal(t, 1, strings.Count(s, "<a "))
	href, _, _ := buttonAttrs(t, b)
	require.Equal(t, `https://shop.example.com/start?a=1&b=%22x%22&c=%27y%27%3e%3cscript%3e`, href)
}

func TestButtonNeutralisesScriptURL(t *testing.T) {
	for _, bad := range []string{"javascript:alert(1)", " JavaScript:alert(1)", "data:text/html,<b>x</b>", "vbscript:x"} {
		b := integration.Button(bad)
		href, _, _ := buttonAttrs(t, b)
		require.False(t, strings.Contains(strings.ToLower(href), "script:") || strings.HasPrefix(href, "data:"),
			"%q rendered as %q", bad, href)
	}
}

func TestButtonOptions(t *testing.T) {
	b := integration.Button("https://x.example/", func(o *integration.ButtonOptions) {
		o.ImageURL = "https://cdn.example.com/pay.png?size=2&style=dark"
		o.Alt = `Pay with "Amazon" <now>`
	})
	href, src, alt := buttonAttrs(t, b)
	require.Equal(t, "https://x.example/", href)
	require.Equal(t, "https://cdn.example.com/pay.png?size=2&style=dark", src)
	require.Equal(t, `Pay with "Amazon" <now>`, alt)
	require.NotContains(t, string(b), "<now>")
}

func ExampleButton() {
	fmt.Println(integration.Button("https://authorize.payments-sandbox.amazon.com/cobranded-ui/actions/start?callerKey=AKIAIOSFODNN7EXAMPLE&pipelineName=SingleUse"))
	// Output:
	// <a href="https://authorize.payments-sandbox.amazon.com/cobranded-ui/actions/start?callerKey=AKIAIOSFODNN7EXAMPLE&amp;pipelineName=SingleUse"><img src="https://g-ecx.images-amazon.com/images/G/01/cba/b/p3.gif" alt="Amazon Payments" /></a>
}
