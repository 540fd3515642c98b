// Log panel webview entry point (see issue 5).
export {};
