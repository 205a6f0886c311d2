/** What plugins that declare `dependsOn: ['http']` may use: the outbound request, as workflows make it. */
export { HttpRequestAction, httpRequestInputSchema } from './actions/request.js';
