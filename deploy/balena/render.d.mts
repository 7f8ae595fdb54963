// Types for render.mjs (plain JavaScript so that it runs without a build).
export type TemplateValues = Record<string, string>;
export declare const deviceTypes: Record<string, { BALENA_ARCH: string; BALENA_MACHINE_NAME: string }>;
export declare function renderTemplate(template: string, values: TemplateValues): string;
export declare function templateValues(target: { arch?: string; deviceType?: string }): TemplateValues;
export declare function copySources(dockerfile: string): string[];
