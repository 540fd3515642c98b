// truva.yaml language server entry point (see issue 7).
export {};
