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
	if rs.modelSel == nil {
		return true
	}
	key := rs.modelSel.eval(e, 0, nil)
	m, ok := rs.models[key]
	if !ok {
		m, ok = rs.models[compile.DefaultTemplateKey]
	}
	var err error
	switch {
	case !ok:
		err = fmt.Errorf("route %s has no model for key %q and no $default model", rs.route.Key, key)
	case m.err != nil:
		err = m.err
	case e.isJSON:
		// e.decoded() is the message decoded as the schema library would
		// decode it (encoding/json, numbers as json.Number).
		err = m.schema.ValidateDecoded(e.decoded())
	default:
		err = m.schema.Validate(e.body) // not JSON: Validate says why
	}
	if err == nil {
		return true
	}
	e.status, e.errMessage, e.integErr = http.StatusBadRequest, invalidBodyMessage, err.Error()
	c.answer(websocket.TextMessage, errorFrame(invalidBodyMessage, c.meta.id, e.requestID))
	return false
}

// routeModel is a model of a route's RequestModels, its schema compiled once
// per plan.
type routeModel struct {
	schema *compile.ModelSchema
	// err says why the schema does not compile (a plan the compiler did not
	// write); every message it selects fails with it.
	err error
}

// routeModels compiles the models of a route (nil: the route validates
// nothing). A model is compiled once however many routes and stages use it.
func (pv *provisioner) routeModels(r *compile.Route) (templateSelection, map[string]routeModel) {
	if r.ModelSelection == nil {
		return nil, nil
	}
	models := make(map[string]routeModel, len(r.RequestModels))
	for key, m := range r.RequestModels {
		if m == nil {
			continue
		}
		id := m.LogicalID + "\x00" + m.Name + "\x00" + string(m.Schema)
		rm, ok := pv.models[id]
		if !ok {
			rm.schema, rm.err = m.Compile()
			pv.models[id] = rm
		}
		models[key] = rm
	}
	return newTemplateSelection(r.ModelSelection), models
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
