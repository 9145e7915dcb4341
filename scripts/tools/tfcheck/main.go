// tfcheck parses Terraform configurations offline (no provider, no registry) and checks what can be
// checked without provider schemas:
//   - every .tf file parses (HCL native syntax) and the directory loads as a module
//     (terraform-config-inspect: variables, outputs, providers, module calls);
//   - references to var.X, local.X and module.X.Y resolve inside the module;
//   - each local module call (source "./..." or "../...") points to a loadable module, passes every
//     required variable and no unknown argument, and reads only outputs that module declares;
//   - the backend named in terraform { backend "..." } (reported, for "remote state configured").
//
// Usage: tfcheck DIR... (each DIR is a root or child module). Prints one JSON report on stdout and
// exits 1 when any problem was found.
package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclparse"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/hashicorp/terraform-config-inspect/tfconfig"
)

type moduleReport struct {
	Path        string            `json:"path"`
	Backend     string            `json:"backend,omitempty"`
	Variables   []string          `json:"variables"`
	Required    []string          `json:"requiredVariables"`
	Outputs     []string          `json:"outputs"`
	Providers   map[string]string `json:"providers"`
	ModuleCalls map[string]string `json:"moduleCalls"`
	Resources   []string          `json:"resources"`
	Locals      []string          `json:"locals"`
	Problems    []string          `json:"problems"`
}

var metaArgs = map[string]bool{"source": true, "version": true, "count": true, "for_each": true, "providers": true, "depends_on": true}

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: tfcheck DIR...")
		os.Exit(2)
	}
	var reports []*moduleReport
	failed := false
	for _, dir := range os.Args[1:] {
		r := check(dir)
		if len(r.Problems) > 0 {
			failed = true
		}
		reports = append(reports, r)
	}
	enc := json.NewEncoder(os.Stdout)
	enc.SetIndent("", "  ")
	_ = enc.Encode(map[string]any{"modules": reports, "ok": !failed})
	if failed {
		os.Exit(1)
	}
}

type parsed struct {
	files  map[string]*hclsyntax.Body
	mod    *tfconfig.Module
	locals map[string]bool
	probs  []string
}

func load(dir string) *parsed {
	p := &parsed{files: map[string]*hclsyntax.Body{}, locals: map[string]bool{}}
	parser := hclparse.NewParser()
	names, _ := filepath.Glob(filepath.Join(dir, "*.tf"))
	sort.Strings(names)
	if len(names) == 0 {
		p.probs = append(p.probs, "no .tf file")
	}
	for _, n := range names {
		f, diags := parser.ParseHCLFile(n)
		for _, d := range diags {
			p.probs = append(p.probs, d.Error())
		}
		if f == nil {
			continue
		}
		if body, ok := f.Body.(*hclsyntax.Body); ok {
			p.files[n] = body
			for _, b := range body.Blocks {
				if b.Type == "locals" {
					for name := range b.Body.Attributes {
						p.locals[name] = true
					}
				}
			}
		}
	}
	mod, diags := tfconfig.LoadModule(dir)
	for _, d := range diags {
		if d.Severity == tfconfig.DiagError {
			p.probs = append(p.probs, fmt.Sprintf("%s: %s", d.Summary, d.Detail))
		}
	}
	p.mod = mod
	return p
}

func check(dir string) *moduleReport {
	p := load(dir)
	r := &moduleReport{Path: dir, Providers: map[string]string{}, ModuleCalls: map[string]string{}, Problems: p.probs}
	if p.mod == nil {
		return r
	}
	for name, v := range p.mod.Variables {
		r.Variables = append(r.Variables, name)
		if v.Required {
			r.Required = append(r.Required, name)
		}
	}
	for name := range p.mod.Outputs {
		r.Outputs = append(r.Outputs, name)
	}
	for name, rp := range p.mod.RequiredProviders {
		r.Providers[name] = strings.Join(rp.VersionConstraints, ",")
		if rp.Source != "" {
			r.Providers[name] = rp.Source + " " + r.Providers[name]
		}
	}
	for key := range p.mod.ManagedResources {
		r.Resources = append(r.Resources, key)
	}
	for name := range p.locals {
		r.Locals = append(r.Locals, name)
	}
	sort.Strings(r.Variables)
	sort.Strings(r.Required)
	sort.Strings(r.Outputs)
	sort.Strings(r.Resources)
	sort.Strings(r.Locals)

	children := map[string]*parsed{}
	for name, call := range p.mod.ModuleCalls {
		r.ModuleCalls[name] = call.Source
		if strings.HasPrefix(call.Source, "./") || strings.HasPrefix(call.Source, "../") {
			child := load(filepath.Join(dir, call.Source))
			if len(child.probs) > 0 || child.mod == nil {
				r.Problems = append(r.Problems, fmt.Sprintf("module %q: source %s does not load: %v", name, call.Source, child.probs))
				continue
			}
			children[name] = child
		}
	}

	for file, body := range p.files {
		for _, b := range body.Blocks {
			switch b.Type {
			case "terraform":
				for _, tb := range b.Body.Blocks {
					if tb.Type == "backend" && len(tb.Labels) == 1 {
						r.Backend = tb.Labels[0]
					}
				}
			case "module":
				if len(b.Labels) != 1 {
					continue
				}
				if child, ok := children[b.Labels[0]]; ok {
					r.Problems = append(r.Problems, checkCall(file, b, child)...)
				}
			}
			r.Problems = append(r.Problems, checkRefs(file, b.Body, p, children)...)
		}
	}
	sort.Strings(r.Problems)
	if r.Problems == nil {
		r.Problems = []string{}
	}
	return r
}

func checkCall(file string, b *hclsyntax.Block, child *parsed) []string {
	var probs []string
	name := b.Labels[0]
	for arg := range b.Body.Attributes {
		if metaArgs[arg] {
			continue
		}
		if _, ok := child.mod.Variables[arg]; !ok {
			probs = append(probs, fmt.Sprintf("%s: module %q passes %q, which its source does not declare", file, name, arg))
		}
	}
	for vname, v := range child.mod.Variables {
		if _, ok := b.Body.Attributes[vname]; v.Required && !ok {
			probs = append(probs, fmt.Sprintf("%s: module %q does not pass required variable %q", file, name, vname))
		}
	}
	return probs
}

func checkRefs(file string, body *hclsyntax.Body, p *parsed, children map[string]*parsed) []string {
	var probs []string
	var walk func(*hclsyntax.Body)
	check := func(expr hclsyntax.Expression) {
		for _, tr := range expr.Variables() {
			root := tr.RootName()
			rng := tr.SourceRange()
			at := fmt.Sprintf("%s:%d", file, rng.Start.Line)
			switch root {
			case "var":
				if n := attrName(tr, 1); n != "" {
					if _, ok := p.mod.Variables[n]; !ok {
						probs = append(probs, fmt.Sprintf("%s: var.%s is not declared", at, n))
					}
				}
			case "local":
				if n := attrName(tr, 1); n != "" && !p.locals[n] {
					probs = append(probs, fmt.Sprintf("%s: local.%s is not defined", at, n))
				}
			case "module":
				n := attrName(tr, 1)
				if n == "" {
					continue
				}
				if _, ok := p.mod.ModuleCalls[n]; !ok {
					probs = append(probs, fmt.Sprintf("%s: module.%s is not called", at, n))
					continue
				}
				if child, ok := children[n]; ok {
					if out := attrNameAfterIndex(tr, 2); out != "" {
						if _, ok := child.mod.Outputs[out]; !ok {
							probs = append(probs, fmt.Sprintf("%s: module.%s has no output %q", at, n, out))
						}
					}
				}
			}
		}
	}
	walk = func(b *hclsyntax.Body) {
		for _, a := range b.Attributes {
			check(a.Expr)
		}
		for _, blk := range b.Blocks {
			walk(blk.Body)
		}
	}
	walk(body)
	return probs
}

func attrName(tr hcl.Traversal, i int) string {
	if len(tr) <= i {
		return ""
	}
	if a, ok := tr[i].(hcl.TraverseAttr); ok {
		return a.Name
	}
	return ""
}

// module.NAME.OUTPUT or module.NAME[0].OUTPUT
func attrNameAfterIndex(tr hcl.Traversal, i int) string {
	for ; i < len(tr); i++ {
		switch s := tr[i].(type) {
		case hcl.TraverseAttr:
			return s.Name
		case hcl.TraverseIndex, hcl.TraverseSplat:
			continue
		default:
			return ""
		}
	}
	return ""
}
