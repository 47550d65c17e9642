// The package ships types (lib/index.d.ts), but its "exports" map gives TypeScript none under
// NodeNext resolution; this declares the part jitsync uses.
declare module 'mongodb-connection-string-url' {
  export default class ConnectionString extends URL {
    constructor(uri: string, options?: { looseValidation?: boolean });
    clone(): ConnectionString;
  }
}
