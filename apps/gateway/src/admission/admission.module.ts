import { Global, Module } from '@nestjs/common';
import { Admission } from './admission';

/** Admission control (see Admission). */
@Global()
@Module({ providers: [Admission], exports: [Admission] })
export class AdmissionModule {}
