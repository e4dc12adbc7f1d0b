package classify

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
)

// Model is a linear model over hashed features: a message's score is Bias
// plus the weight of each distinct feature it has. Naive Bayes (weights are
// log-likelihood ratios) and logistic regression (weights are learned
// log-odds) both come out in this form, so one scorer serves either.
//
// The words (every kind but rules) are summed in two groups, and each group
// is bounded: the spam-side words add at most Meta.TokenCap, the ham-side
// at most Meta.TokenFloor below zero. Words are the part of the model that
// does not carry over from the training corpus to today's mail (the 2002
// corpus' ham never says "invoice", its spam often does), so no pile of
// words alone can make ordinary mail spam; structure, links, headers and
// the fixed rules decide the rest.
type Model struct {
	Meta    ModelMeta
	Weights []float32 // dense, 1<<Meta.Bits entries; a feature's index is its hash masked
}

// ModelMeta is the model file's header: how the model was made and how to
// read its scores.
type ModelMeta struct {
	Algo           string `json:"algo"` // "lr" or "nb"
	FeatureVersion int    `json:"feature_version"`
	Bits           int    `json:"bits"`
	// Bias is the score of a message with no features: the training
	// corpus' prior log-odds of spam, moved to BaseRate (PriorShift
	// subtracted), so scores are log-odds of spam among outbound mail.
	Bias float64 `json:"bias"`
	// TrainPrior is the training corpus' share of spam; BaseRate the share
	// of spam the scores are calibrated to (outbound mail from attributed
	// tenants is mostly legitimate); PriorShift = logit(TrainPrior) −
	// logit(BaseRate), taken off every score.
	TrainPrior float64 `json:"train_prior"`
	BaseRate   float64 `json:"base_rate"`
	PriorShift float64 `json:"prior_shift"`
	// Scale and Offset are the Platt calibration applied to the learner's
	// scores (weights, bounds and bias are stored already calibrated).
	Scale  float64 `json:"scale"`
	Offset float64 `json:"offset"`
	// TokenCap bounds what the spam-side words add together, TokenFloor
	// what the ham-side words take away (both positive numbers).
	TokenCap   float64 `json:"token_cap"`
	TokenFloor float64 `json:"token_floor"`
	// Threshold is the score from which a message is spam: ln(FalseBlockCost),
	// the point where the expected cost of a false spam verdict (counted
	// FalseBlockCost missed spams) equals that of letting the message pass,
	// and never below the score that keeps the corpus' cross-validated ham
	// false positives within FPTarget.
	Threshold      float64 `json:"threshold"`
	FalseBlockCost float64 `json:"false_block_cost"`
	FPTarget       float64 `json:"fp_target"`
	Ham            int     `json:"ham"`
	Spam           int     `json:"spam"`
	Features       int     `json:"features"` // non-zero weights
}

// modelMagic starts every model file; the number is the file format's
// version, not the features' (that is Meta.FeatureVersion).
const modelMagic = "tollgate-classify-model 1\n"

// maxBits bounds the hash space a model file may ask for (64 MiB of weights).
const maxBits = 24

// WriteTo writes m as: the magic line, the meta as one JSON line, then the
// non-zero weights as (uvarint index delta, float32 little-endian) pairs.
// The bytes depend only on m, so a reproducible training gives a
// reproducible file.
func (m *Model) WriteTo(w io.Writer) (int64, error) {
	var buf bytes.Buffer
	buf.WriteString(modelMagic)
	meta := m.Meta
	meta.Features = 0
	for _, x := range m.Weights {
		if x != 0 {
			meta.Features++
		}
	}
	js, err := json.Marshal(meta)
	if err != nil {
		return 0, fmt.Errorf("encoding model meta: %w", err)
	}
	buf.Write(js)
	buf.WriteByte('\n')
	buf.Write(binary.AppendUvarint(nil, uint64(meta.Features)))
	prev := 0
	for i, x := range m.Weights {
		if x == 0 {
			continue
		}
		buf.Write(binary.AppendUvarint(nil, uint64(i-prev)))
		buf.Write(binary.LittleEndian.AppendUint32(nil, math.Float32bits(x)))
		prev = i
	}
	n, err := w.Write(buf.Bytes())
	return int64(n), err
}

// ReadModel reads a model written by WriteTo, refusing one made for other
// features or damaged.
func ReadModel(r io.Reader) (*Model, error) {
	br := bufio.NewReader(r)
	magic := make([]byte, len(modelMagic))
	if _, err := io.ReadFull(br, magic); err != nil || string(magic) != modelMagic {
		return nil, errors.New("not a tollgate classifier model (bad magic line)")
	}
	line, err := br.ReadBytes('\n')
	if err != nil {
		return nil, fmt.Errorf("reading model meta: %w", err)
	}
	var m Model
	if err := json.Unmarshal(line, &m.Meta); err != nil {
		return nil, fmt.Errorf("decoding model meta: %w", err)
	}
	if m.Meta.FeatureVersion != FeatureVersion {
		return nil, fmt.Errorf("model was trained for features version %d, this build extracts version %d: retrain it with tollgate classify train",
			m.Meta.FeatureVersion, FeatureVersion)
	}
	if m.Meta.Bits < 1 || m.Meta.Bits > maxBits {
		return nil, fmt.Errorf("model bits %d out of range 1..%d", m.Meta.Bits, maxBits)
	}
	m.Weights = make([]float32, 1<<m.Meta.Bits)
	n, err := binary.ReadUvarint(br)
	if err != nil {
		return nil, fmt.Errorf("reading model weight count: %w", err)
	}
	if n > uint64(len(m.Weights)) {
		return nil, fmt.Errorf("model has %d weights for %d slots", n, len(m.Weights))
	}
	idx := uint64(0)
	var f [4]byte
	for i := uint64(0); i < n; i++ {
		d, err := binary.ReadUvarint(br)
		if err != nil {
			return nil, fmt.Errorf("reading model weight %d: %w", i, err)
		}
		if idx += d; idx >= uint64(len(m.Weights)) || (i > 0 && d == 0) {
			return nil, fmt.Errorf("model weight %d: index %d out of order or range", i, idx)
		}
		if _, err := io.ReadFull(br, f[:]); err != nil {
			return nil, fmt.Errorf("reading model weight %d: %w", i, err)
		}
		x := math.Float32frombits(binary.LittleEndian.Uint32(f[:]))
		if math.IsNaN(float64(x)) || math.IsInf(float64(x), 0) {
			return nil, fmt.Errorf("model weight %d is not finite", i)
		}
		m.Weights[idx] = x
	}
	if _, err := br.ReadByte(); err != io.EOF {
		return nil, errors.New("model has trailing bytes")
	}
	m.Meta.Features = int(n)
	return &m, nil
}

// hashFeature is FNV-1a over the kind byte and the token: cheap, stable
// across builds and platforms (the model file depends on it), and good
// enough spread for hashing words.
func hashFeature(kind byte, tok []byte) uint32 {
	h := uint32(2166136261)
	h = (h ^ uint32(kind)) * 16777619
	for _, c := range tok {
		h = (h ^ uint32(c)) * 16777619
	}
	return h
}
