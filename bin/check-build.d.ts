/** Types of check-build.js (plain JavaScript: it runs before any build). */
export declare const STAMP: string;
export interface BuildProblem { readonly code: 'PW_BUILD_MISSING' | 'PW_BUILD_STALE'; readonly message: string }
export declare function checkBuild(): BuildProblem | undefined;
