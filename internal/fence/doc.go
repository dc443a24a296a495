// Package fence holds the test that enforces the import fences of
// CONVENTIONS.md ("Dependencies flow one way"). It has no code of its own.
package fence
