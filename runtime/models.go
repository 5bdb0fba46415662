package runtime

import (
	"fmt"
	"net/http"

	"github.com/gorilla/websocket"
	"github.com/wsgw/wsgw/compile"
)

// invalidBodyMessage is the message of the frame a message that fails its
// route's model gets. The request-validation page of the API Gateway
// developer guide says only that the client is sent the "Bad request body"
// gateway response; the frame its wscat example shows is
// {"message": "Invalid request body", "connectionId":..., "requestId":...},
// and that is the text wsgw sends.
const invalidBodyMessage = "Invalid request body"

// validateMessage checks a message against the model its route's
// ModelSelectionExpression selects (SPEC ): the RequestModels entry of
// the key, else $default; no model at all fails too, as on AWS. A message
// that fails gets the Invalid request body frame and its integration is not
// called; validateMessage then returns false.
func (s *apiServer) validateMessage(c *conn, e *event, rs *routeState) bool {
	r := rs.route
	if r.ModelSelection == nil {
		return true
	}
	key := evalSelection(r.ModelSelection, e, 0, nil)
	m := r.RequestModels[key]
	if m == nil {
		m = r.RequestModels[compile.DefaultTemplateKey]
	}
	var err error
	switch {
	case m == nil:
		err = fmt.Errorf("route %s has no model for key %q and no $default model", r.Key, key)
	case e.isJSON:
		// e.doc is the message decoded as the schema library would decode
		// it (encoding/json, numbers as json.Number): no second parse.
		err = m.ValidateDecoded(e.doc)
	default:
		err = m.Validate(e.body) // not JSON: Validate says why
	}
	if err == nil {
		return true
	}
	e.status, e.errMessage, e.integErr = http.StatusBadRequest, invalidBodyMessage, err.Error()
	c.answer(websocket.TextMessage, errorFrame(invalidBodyMessage, c.meta.id, e.requestID))
	return false
}

// gatewayFrame answers a message the gateway itself refused while running
// its integration (a gatewayError) with its error frame; it returns false
// when err is not such a refusal.
func (s *apiServer) gatewayFrame(c *conn, e *event, err error) bool {
	ge, ok := err.(*gatewayError)
	if !ok {
		return false
	}
	e.status, e.errMessage, e.integErr = ge.status, ge.message, ge.why
	c.answer(websocket.TextMessage, errorFrame(ge.message, c.meta.id, e.requestID))
	return true
}
