// Command goverifier checks Charter's ledger answers with Go's golang.org/x/mod/sumdb/note and
// sumdb/tlog (Debian: golang-golang-x-mod-dev), so the proofs are judged by code that is not
// Charter's. It reads one JSON document on stdin:
//
//	{"vkey": "<note verifier key>", "origin": "<expected origin>",
//	 "inclusion": [{"seq", "tree_size", "leaf_hash", "hashes", "checkpoint"}],
//	 "consistency": [{"from", "to", "hashes", "checkpoint", "old_checkpoint"}]}
//
// and prints "ok" (exit status 0), or what failed (exit status 1).
package main

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"os"
	"strconv"
	"strings"

	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"
)

type inclusion struct {
	Seq        int64    `json:"seq"`
	TreeSize   int64    `json:"tree_size"`
	LeafHash   string   `json:"leaf_hash"`
	Hashes     []string `json:"hashes"`
	Checkpoint string   `json:"checkpoint"`
}

type consistency struct {
	From          int64    `json:"from"`
	To            int64    `json:"to"`
	Hashes        []string `json:"hashes"`
	Checkpoint    string   `json:"checkpoint"`
	OldCheckpoint string   `json:"old_checkpoint"`
}

type input struct {
	VKey        string        `json:"vkey"`
	Origin      string        `json:"origin"`
	Inclusion   []inclusion   `json:"inclusion"`
	Consistency []consistency `json:"consistency"`
}

func hash(s string) (tlog.Hash, error) {
	var h tlog.Hash
	raw, err := base64.StdEncoding.DecodeString(s)
	if err != nil || len(raw) != tlog.HashSize {
		return h, fmt.Errorf("bad hash %q", s)
	}
	copy(h[:], raw)
	return h, nil
}

// checkpoint opens a signed checkpoint with the verifier and returns its size and root.
func checkpoint(msg string, verifiers note.Verifiers, origin string) (int64, tlog.Hash, error) {
	var root tlog.Hash
	n, err := note.Open([]byte(msg), verifiers)
	if err != nil {
		return 0, root, fmt.Errorf("note.Open: %v", err)
	}
	lines := strings.Split(n.Text, "\n")
	if len(lines) < 4 || lines[3] != "" {
		return 0, root, fmt.Errorf("not a checkpoint: %q", n.Text)
	}
	if lines[0] != origin {
		return 0, root, fmt.Errorf("origin %q, want %q", lines[0], origin)
	}
	size, err := strconv.ParseInt(lines[1], 10, 64)
	if err != nil {
		return 0, root, err
	}
	root, err = hash(lines[2])
	return size, root, err
}

func run() error {
	var in input
	if err := json.NewDecoder(os.Stdin).Decode(&in); err != nil {
		return err
	}
	verifier, err := note.NewVerifier(in.VKey)
	if err != nil {
		return fmt.Errorf("note.NewVerifier: %v", err)
	}
	verifiers := note.VerifierList(verifier)
	for _, p := range in.Inclusion {
		size, root, err := checkpoint(p.Checkpoint, verifiers, in.Origin)
		if err != nil {
			return err
		}
		if size != p.TreeSize {
			return fmt.Errorf("checkpoint size %d, proof for %d", size, p.TreeSize)
		}
		leaf, err := hash(p.LeafHash)
		if err != nil {
			return err
		}
		proof := make(tlog.RecordProof, len(p.Hashes))
		for i, h := range p.Hashes {
			if proof[i], err = hash(h); err != nil {
				return err
			}
		}
		if err := tlog.CheckRecord(proof, size, root, p.Seq, leaf); err != nil {
			return fmt.Errorf("inclusion of %d in %d: %v", p.Seq, size, err)
		}
	}
	for _, p := range in.Consistency {
		newSize, newRoot, err := checkpoint(p.Checkpoint, verifiers, in.Origin)
		if err != nil {
			return err
		}
		oldSize, oldRoot, err := checkpoint(p.OldCheckpoint, verifiers, in.Origin)
		if err != nil {
			return err
		}
		if newSize != p.To || oldSize != p.From {
			return fmt.Errorf("checkpoints of %d and %d, proof from %d to %d", oldSize, newSize, p.From, p.To)
		}
		proof := make(tlog.TreeProof, len(p.Hashes))
		for i, h := range p.Hashes {
			if proof[i], err = hash(h); err != nil {
				return err
			}
		}
		if err := tlog.CheckTree(proof, newSize, newRoot, oldSize, oldRoot); err != nil {
			return fmt.Errorf("consistency of %d with %d: %v", oldSize, newSize, err)
		}
	}
	fmt.Println("ok")
	return nil
}

func main() {
	if err := run(); err != nil {
		fmt.Println(err)
		os.Exit(1)
	}
}
