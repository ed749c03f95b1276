"""``critlang lsp``: a language server for criteria files, over stdio (needs ``critlang[lsp]``).

Every answer comes from critlang's own pipeline; the server adds no parsing or checking of its
own. The modules, from the protocol inwards:

- :mod:`~critlang.lsp.server`: the pygls server; one small handler per LSP request;
- :mod:`~critlang.lsp.documents`: when each open document is analysed (debounced, in a worker
  thread), and the analyses the features read;
- :mod:`~critlang.lsp.analysis`: one analysis, the linter's context and findings;
- :mod:`~critlang.lsp.index`: names resolved, and what each literal is compared with;
- :mod:`~critlang.lsp.findings` (diagnostics), :mod:`~critlang.lsp.hover`,
  :mod:`~critlang.lsp.completion`, :mod:`~critlang.lsp.navigation` (definition, references,
  rename), :mod:`~critlang.lsp.outline` (document symbols), :mod:`~critlang.lsp.edits`
  (formatting, code actions);
- :mod:`~critlang.lsp.positions`: offsets <-> LSP positions; :mod:`~critlang.lsp.locations`:
  the files of the standard dictionary and of ``use``.

``docs/lsp.md`` says what the server supports and how to set up editors.
"""
