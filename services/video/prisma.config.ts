import { prismaCliConfig } from '@cryptocare/platform/src/prisma-cli';

export default prismaCliConfig('video');
