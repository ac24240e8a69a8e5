import { z } from 'zod';

/**
 * The parts of ConnectWise PSA REST records the intake reads (field names as the API's
 * OpenAPI models spell them); everything else passes through unread.
 */

const reference = z
  .object({ id: z.number().int(), name: z.string().nullish(), identifier: z.string().nullish() })
  .passthrough();

export const customFieldValueSchema = z
  .object({
    id: z.number().int(),
    caption: z.string().nullish(),
    type: z.string().nullish(),
    entryMethod: z.string().nullish(),
    numberOfDecimals: z.number().nullish(),
    value: z.unknown().optional(),
  })
  .passthrough();
export type CustomFieldValue = z.infer<typeof customFieldValueSchema>;

export const companySchema = z
  .object({
    id: z.number().int(),
    identifier: z.string(),
    name: z.string(),
    status: reference.nullish(),
    types: z.array(reference).nullish(),
    addressLine1: z.string().nullish(),
    city: z.string().nullish(),
    state: z.string().nullish(),
    zip: z.string().nullish(),
    country: reference.nullish(),
    phoneNumber: z.string().nullish(),
    website: z.string().nullish(),
    defaultContact: reference.nullish(),
    deletedFlag: z.boolean().nullish(),
    customFields: z.array(customFieldValueSchema).nullish(),
  })
  .passthrough();
export type Company = z.infer<typeof companySchema>;

export const contactSchema = z
  .object({
    id: z.number().int(),
    firstName: z.string().nullish(),
    lastName: z.string().nullish(),
    title: z.string().nullish(),
    company: reference.nullish(),
    inactiveFlag: z.boolean().nullish(),
    communicationItems: z
      .array(
        z
          .object({
            type: reference.nullish(),
            value: z.string(),
            defaultFlag: z.boolean().nullish(),
            communicationType: z.string().nullish(),
          })
          .passthrough(),
      )
      .nullish(),
  })
  .passthrough();
export type Contact = z.infer<typeof contactSchema>;

export const agreementSchema = z
  .object({
    id: z.number().int(),
    name: z.string(),
    type: reference.nullish(),
    company: reference,
    contact: reference.nullish(),
    agreementStatus: z.string().nullish(),
    cancelledFlag: z.boolean().nullish(),
    startDate: z.string().nullish(),
  })
  .passthrough();
export type Agreement = z.infer<typeof agreementSchema>;

export const additionSchema = z
  .object({
    id: z.number().int(),
    product: reference,
    quantity: z.number().nullish(),
    description: z.string().nullish(),
    cancelledDate: z.string().nullish(),
  })
  .passthrough();
export type Addition = z.infer<typeof additionSchema>;

export const opportunitySchema = z
  .object({
    id: z.number().int(),
    name: z.string(),
    company: reference,
    contact: reference.nullish(),
    status: reference.nullish(),
    stage: reference.nullish(),
    type: reference.nullish(),
    closedDate: z.string().nullish(),
  })
  .passthrough();
export type Opportunity = z.infer<typeof opportunitySchema>;

export const companyNoteSchema = z
  .object({ id: z.number().int(), text: z.string(), flagged: z.boolean().nullish(), type: reference.nullish() })
  .passthrough();
export type CompanyNote = z.infer<typeof companyNoteSchema>;

export const systemInfoSchema = z.object({ version: z.string() }).passthrough();
